"""The register of policy documents (政策依据) and what their changes set off.

* Marking a document repealed or amended opens one correction task
  (office feedback, reason 引用失效或废止文件) on every published entry that
  cites it, for that entry's unit. The task points at the status change, and a
  unique constraint on (status change, entry) makes it exactly one, however
  often the request is repeated; repeating the same status is no change.
* Registering a policy in force with a responsible unit and a date of effect
  opens a policy-change task for that unit, received at registration and due
  N working days after the policy's publication, or before it applies if that
  is earlier (`tasks.counted_from`).
* A proposal citing a repealed or amended document gets a warning at
  submission, and search results show the same warning (``kb.citations``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kb.access import Actor, require_role
from kb.db import UnitOfWork
from kb.deadlines import FeedbackReason, TaskSource
from kb.errors import Conflict, NotFound, ValidationFailed
from kb.models import (
    CorrectionTask, EntryStatus, KnowledgeEntry, KnowledgeVersion, PolicyDocument, PolicyStatus, PolicyStatusChange,
    Role, Unit)
from kb.search import outbox
from kb.services import audit, tasks
from kb.services.knowledge import READERS
from kb.submission import normalize_doc_number


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySnapshot:
    """A document of the register, as listed."""

    id: int
    doc_number: str             # 文号, normalised to 〔〕
    title: str
    issuer: str
    published_on: date
    effective_on: date | None
    status: str                 # PolicyStatus's value
    unit_code: str | None       # the responsible unit
    note: str | None
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime

    @classmethod
    def of(cls, doc: PolicyDocument) -> PolicySnapshot:
        return cls(**_fields(doc))


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyDetailSnapshot(PolicySnapshot):
    """One document, with the published knowledge citing it."""

    citing_entry_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyChangeSnapshot(PolicySnapshot):
    """A document as registered, corrected or marked, with the tasks that opened."""

    opened_task_ids: tuple[int, ...]


def _fields(doc: PolicyDocument) -> dict[str, Any]:
    return {"id": doc.id, "doc_number": doc.doc_number, "title": doc.title, "issuer": doc.issuer,
            "published_on": doc.published_on, "effective_on": doc.effective_on, "status": doc.status,
            "unit_code": doc.unit.code if doc.unit else None, "note": doc.note, "created_at": doc.created_at,
            "updated_at": doc.updated_at, "status_changed_at": doc.status_changed_at}


def _record(doc: PolicySnapshot) -> dict[str, Any]:
    """A document as its audit events have always recorded it, its status label included."""
    return {"id": doc.id, "doc_number": doc.doc_number, "title": doc.title, "issuer": doc.issuer,
            "published_on": doc.published_on, "effective_on": doc.effective_on, "status": doc.status,
            "status_label": PolicyStatus(doc.status).label, "unit_code": doc.unit_code, "note": doc.note,
            "created_at": doc.created_at, "updated_at": doc.updated_at, "status_changed_at": doc.status_changed_at}


def citing_entries(session: Session, doc_number: str) -> list[KnowledgeEntry]:
    """Published entries whose published version cites the document."""
    return list(session.scalars(
        select(KnowledgeEntry)
        .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
              & (KnowledgeVersion.number == KnowledgeEntry.published_number))
        .where(KnowledgeVersion.policy_number == doc_number,
               KnowledgeEntry.status == EntryStatus.PUBLISHED.value)
        .order_by(KnowledgeEntry.id)))


def _normalized(raw: str) -> str:
    number = normalize_doc_number(raw or "")
    if number is None:
        raise ValidationFailed({"doc_number": f"文号“{raw}”格式不规范，应类似“鲁政办字〔2021〕126号”"})
    return number


def _unit_id(session: Session, unit_code: str | None) -> int | None:
    if not unit_code:
        return None
    unit_id = session.scalar(select(Unit.id).where(Unit.code == unit_code))
    if unit_id is None:
        raise ValidationFailed({"unit_code": f"单位 {unit_code} 不存在"})
    return unit_id


def _check_dates(published_on: date | None, effective_on: date | None) -> None:
    if published_on and effective_on and effective_on < published_on:
        raise ValidationFailed({"effective_on": "施行日期不能早于发布日期"})


def _open_citation_tasks(session: Session, actor: Actor | None, doc: PolicyDocument, change: PolicyStatusChange,
                         now: datetime, settings: tasks.CorrectionSettings) -> list[int]:
    """One task per citing published entry for this status change; entries that have one are skipped."""
    entries = citing_entries(session, doc.doc_number)
    done = set(session.scalars(select(CorrectionTask.entry_id).where(CorrectionTask.policy_change_id == change.id)))
    calendar = tasks.load_calendar(session)
    label = PolicyStatus(doc.status).label
    opened = []
    for entry in entries:
        outbox.enqueue(session, entry.id, now)  # search shows the warning
        if entry.id in done:
            continue
        task = tasks.open_task(
            session, unit_id=entry.unit_id, entry_id=entry.id, source=TaskSource.OFFICE_FEEDBACK,
            reason=FeedbackReason.CITES_REPEALED.value, received_at=now, now=now, calendar=calendar,
            settings=settings, actor=actor, policy_document_id=doc.id, policy_change_id=change.id,
            detail=f"引用的文件 {doc.doc_number}《{doc.title}》{label}，请核实并更新政策依据和答案"
                   + (f"（{change.note}）" if change.note else ""))
        opened.append(task.id)
    return opened


def _open_policy_change_task(session: Session, actor: Actor | None, doc: PolicyDocument, now: datetime,
                             settings: tasks.CorrectionSettings) -> int | None:
    if doc.status != PolicyStatus.IN_FORCE.value or doc.unit_id is None or doc.effective_on is None:
        return None
    exists = session.scalar(select(CorrectionTask.id).where(
        CorrectionTask.policy_document_id == doc.id, CorrectionTask.source == TaskSource.POLICY_CHANGE.value))
    if exists:
        return None
    task = tasks.open_task(
        session, unit_id=doc.unit_id, source=TaskSource.POLICY_CHANGE, received_at=now, now=now,
        calendar=tasks.load_calendar(session), settings=settings, actor=actor, policy_document_id=doc.id,
        policy_effective_on=doc.effective_on, policy_published_on=doc.published_on, reason="新政策发布",
        detail=f"新政策 {doc.doc_number}《{doc.title}》将于 {doc.effective_on.isoformat()} 施行，请更新相关知识")
    return task.id


def register(uow: UnitOfWork, actor: Actor | None, *, doc_number: str, title: str, issuer: str, published_on: date,
             now: datetime, settings: tasks.CorrectionSettings, effective_on: date | None = None, status: str = PolicyStatus.IN_FORCE.value,
             unit_code: str | None = None, note: str | None = None) -> PolicyChangeSnapshot:
    if actor is not None:
        require_role(actor, Role.OFFICE_ADMIN)
    status_ = PolicyStatus(status)
    number = _normalized(doc_number)
    _check_dates(published_on, effective_on)
    with uow:
        s = uow.session
        if s.scalar(select(PolicyDocument.id).where(PolicyDocument.doc_number == number)):
            raise Conflict(f"文件 {number} 已登记", code="policy_exists")
        doc = PolicyDocument(doc_number=number, title=title.strip(), issuer=issuer.strip(), published_on=published_on,
                             effective_on=effective_on, status=status_.value, unit_id=_unit_id(s, unit_code),
                             note=note, created_by_id=actor.user_id if actor else None, created_at=now,
                             updated_at=now, status_changed_at=now)
        s.add(doc)
        s.flush()
        change = PolicyStatusChange(document_id=doc.id, from_status=None, to_status=status_.value, note=note,
                                    changed_by_id=actor.user_id if actor else None, changed_at=now)
        s.add(change)
        s.flush()
        opened = []
        if status_.invalidates_citations:
            opened = _open_citation_tasks(s, actor, doc, change, now, settings)
        policy_task = _open_policy_change_task(s, actor, doc, now, settings)
        if policy_task:
            opened.append(policy_task)
        audit.record(s, actor, "policy.register", "policy_document", doc.id, None,
                     _record(PolicySnapshot.of(doc)), now)
        view = PolicyChangeSnapshot(**_fields(doc), opened_task_ids=tuple(opened))
        uow.commit()
        return view


def _load(session: Session, policy_id: int, *, for_update: bool = False) -> PolicyDocument:
    query = select(PolicyDocument).where(PolicyDocument.id == policy_id)
    if for_update:
        query = query.with_for_update(of=PolicyDocument)
    doc = session.scalar(query)
    if doc is None:
        raise NotFound(f"政策文件 {policy_id} 不存在", code="policy_not_found")
    return doc


def change_status(uow: UnitOfWork, actor: Actor | None, policy_id: int, *, status: str, now: datetime,
                  settings: tasks.CorrectionSettings,
                  note: str | None = None) -> PolicyChangeSnapshot:
    """Mark a document in force, amended or repealed. The same status again changes nothing."""
    if actor is not None:
        require_role(actor, Role.OFFICE_ADMIN)
    status_ = PolicyStatus(status)
    with uow:
        s = uow.session
        doc = _load(s, policy_id, for_update=True)  # two requests at once: the second sees the first's status
        if doc.status == status_.value:
            return PolicyChangeSnapshot(**_fields(doc), opened_task_ids=())
        before = _record(PolicySnapshot.of(doc))
        change = PolicyStatusChange(document_id=doc.id, from_status=doc.status, to_status=status_.value, note=note,
                                    changed_by_id=actor.user_id if actor else None, changed_at=now)
        doc.status, doc.status_changed_at, doc.updated_at = status_.value, now, now
        s.add(change)
        s.flush()
        if status_.invalidates_citations:
            opened = _open_citation_tasks(s, actor, doc, change, now, settings)
        else:
            opened = []
            for entry in citing_entries(s, doc.doc_number):
                outbox.enqueue(s, entry.id, now)  # the warning goes away
        audit.record(s, actor, "policy.status", "policy_document", doc.id, before,
                     {**_record(PolicySnapshot.of(doc)), "note": note, "opened_task_ids": opened}, now)
        view = PolicyChangeSnapshot(**_fields(doc), opened_task_ids=tuple(opened))
        uow.commit()
        return view


def update(uow: UnitOfWork, actor: Actor, policy_id: int, *, now: datetime, settings: tasks.CorrectionSettings,
           fields: Mapping[str, Any]) -> PolicyChangeSnapshot:
    """Correct the register: title, issuer, dates, note; the unit only while no policy-change task exists.

    A new date of effect or of publication recounts the open policy-change
    task's deadline; a unit and a date of effect given later open the task then.
    """
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        doc = _load(s, policy_id, for_update=True)
        before = PolicySnapshot.of(doc)
        task_ids = list(s.scalars(select(CorrectionTask.id).where(
            CorrectionTask.policy_document_id == doc.id, CorrectionTask.source == TaskSource.POLICY_CHANGE.value)))
        if "unit_code" in fields:
            unit_id = _unit_id(s, fields["unit_code"])
            if unit_id != doc.unit_id and task_ids:
                raise Conflict("已向承办单位下达政策变化任务，不能再更换单位", code="policy_task_exists")
            doc.unit_id = unit_id
        for name in ("title", "issuer", "published_on", "effective_on", "note"):
            if name in fields:
                setattr(doc, name, fields[name])
        _check_dates(doc.published_on, doc.effective_on)
        doc.updated_at = now
        s.flush()
        s.expire(doc, ["unit"])
        opened = []
        if task_ids and (before.effective_on, before.published_on) != (doc.effective_on, doc.published_on):
            tasks.recompute_deadlines(s, tasks.load_calendar(s), settings, now, task_ids=task_ids)
        elif not task_ids:
            new_task = _open_policy_change_task(s, actor, doc, now, settings)
            opened = [new_task] if new_task else []
        audit.record(s, actor, "policy.update", "policy_document", doc.id, _record(before),
                     _record(PolicySnapshot.of(doc)), now)
        view = PolicyChangeSnapshot(**_fields(doc), opened_task_ids=tuple(opened))
        uow.commit()
        return view


def get_policy(uow: UnitOfWork, actor: Actor, policy_id: int) -> PolicyDetailSnapshot:
    require_role(actor, *READERS)
    with uow:
        doc = _load(uow.session, policy_id)
        return PolicyDetailSnapshot(
            **_fields(doc), citing_entry_ids=tuple(e.id for e in citing_entries(uow.session, doc.doc_number)))


def list_policies(uow: UnitOfWork, actor: Actor, *, status: str | None = None, q: str | None = None,
                  unit_code: str | None = None, limit: int = 50,
                  offset: int = 0) -> tuple[int, list[PolicySnapshot]]:
    require_role(actor, *READERS)
    with uow:
        s = uow.session
        query = select(PolicyDocument).outerjoin(Unit, Unit.id == PolicyDocument.unit_id)
        if status:
            query = query.where(PolicyDocument.status == status)
        if unit_code:
            query = query.where(Unit.code == unit_code)
        if q:
            number = normalize_doc_number(q)
            like = f"%{q.strip()}%"
            query = query.where(or_(PolicyDocument.title.like(like), PolicyDocument.doc_number.like(like),
                                    PolicyDocument.doc_number == (number or q)))
        total = s.scalar(select(func.count()).select_from(query.with_only_columns(PolicyDocument.id).subquery())) or 0
        rows = s.scalars(query.order_by(PolicyDocument.published_on.desc(), PolicyDocument.id.desc())
                         .limit(limit).offset(offset))
        return total, [PolicySnapshot.of(d) for d in rows]
