"""Knowledge citing a repealed or amended policy document (政策依据): the warning it carries.

The same warning shows at submission (``kb.services.changes`` adds it to a
proposal's warnings) and on search hits (``kb.search.sync`` adds it to the
stored payload); both call these functions by name. The register of
documents itself is kept by ``kb.services.policies``.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import KnowledgeEntry, KnowledgeVersion, PolicyDocument, PolicyStatus
from kb.proposal import Proposal
from kb.submission import Warning, normalize_doc_number


def _invalid_documents(session: Session, numbers: set[str]) -> dict[str, PolicyDocument]:
    """The documents among `numbers` that are repealed or amended (few: read them all)."""
    if not numbers:
        return {}
    return {d.doc_number: d for d in session.scalars(select(PolicyDocument).where(
        PolicyDocument.status.in_([PolicyStatus.AMENDED.value, PolicyStatus.REPEALED.value])))
            if d.doc_number in numbers}


def _warning_text(doc: PolicyDocument) -> str:
    return f"引用的文件 {doc.doc_number}《{doc.title}》{PolicyStatus(doc.status).label}，请核实政策依据"


def cited_document_warnings(session: Session, proposal: Proposal) -> list[Warning]:
    """Submission warning: the proposal cites a repealed or amended document."""
    number = normalize_doc_number(proposal.value("policy_number") or "")
    doc = _invalid_documents(session, {number} if number else set()).get(number or "")
    if doc is None:
        return []
    code = "cites_repealed_policy" if doc.status == PolicyStatus.REPEALED.value else "cites_amended_policy"
    return [Warning(code, "policy_number", _warning_text(doc))]


def search_payload(session: Session, entry_ids: list[int]) -> dict[int, dict]:
    """`policy_warning` for search hits whose published version cites a repealed or amended document."""
    cited: dict[int, str] = {}
    for i in range(0, len(entry_ids), 500):  # a rebuild asks for every entry at once
        rows = session.execute(
            select(KnowledgeEntry.id, KnowledgeVersion.policy_number)
            .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                  & (KnowledgeVersion.number == KnowledgeEntry.published_number))
            .where(KnowledgeEntry.id.in_(entry_ids[i:i + 500]), KnowledgeVersion.policy_number.is_not(None)))
        cited.update((entry_id, number) for entry_id, number in rows if number is not None)
    docs = _invalid_documents(session, set(cited.values()))
    return {eid: {"policy_warning": _warning_text(docs[number])} for eid, number in cited.items() if number in docs}
