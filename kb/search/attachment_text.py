"""The text of an entry's basis documents, for its search document: found by what the file says."""
from __future__ import annotations

from sqlalchemy import select

from kb.models import Attachment, KnowledgeEntry, KnowledgeVersion, VersionAttachment


def texts_by_entry(session, entry_ids: list[int]) -> dict[int, str]:
    """Search: the text of each entry's current files, with their names."""
    if not entry_ids:
        return {}
    rows = session.execute(
        select(KnowledgeEntry.id, Attachment.file_name, Attachment.text)
        .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
              & (KnowledgeVersion.number == KnowledgeEntry.published_number))
        .join(VersionAttachment, VersionAttachment.version_id == KnowledgeVersion.id)
        .join(Attachment, Attachment.id == VersionAttachment.attachment_id)
        .where(KnowledgeEntry.id.in_(entry_ids), Attachment.text.is_not(None))
        .order_by(KnowledgeEntry.id, VersionAttachment.position)).all()
    out: dict[int, str] = {}
    for entry_id, name, text in rows:
        out[entry_id] = (out.get(entry_id, "") + f"\n〔附件《{name}》〕{text}").strip()
    return out
