"""Operators' suggestions and "this answer is wrong or outdated" flags (Huantai 3.2).

An operator flags a published entry; the office turns the flag into an
operator-suggestion task for the entry's unit or dismisses it with a reason.
Whoever raised it sees what became of it: waiting, dismissed (and why),
passed to the unit, fixed in version N, or declined by the unit with the
office's agreement.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from kb.access import Actor, require_role
from kb.calendar import to_shanghai
from kb.db import UnitOfWork
from kb.deadlines import TaskSource
from kb.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from kb.models import (
    CorrectionTask, EntryStatus, FlagCause, FlagKind, FlagState, KnowledgeEntry, KnowledgeFlag, KnowledgeVersion, Role, TaskState,
    Unit)
from kb.services import audit, tasks


def fate(flag: KnowledgeFlag, task: CorrectionTask | None) -> str:
    """What became of the flag: pending / dismissed / in_task / fixed / withdrawn / declined."""
    if flag.state == FlagState.PENDING.value:
        return "pending"
    if flag.state == FlagState.DISMISSED.value:
        return "dismissed"
    if task is not None and task.state == TaskState.RESOLVED.value:
        return "fixed" if task.resolved_version is not None else "withdrawn"
    if task is not None and task.state == TaskState.DECLINED.value:
        return "declined"
    return "in_task"


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagSnapshot:
    """A flag as read inside the transaction, with its entry's question and unit, and what became of it
    (`fate`, with the task it was passed to: its state, the version that fixed it, the unit's justification
    of a decline)."""

    id: int
    entry_id: int
    entry_version: int
    entry_question: str | None
    unit_code: str | None
    kind: str
    text: str
    raised_by: int
    raised_at: datetime
    state: str
    triaged_at: datetime | None
    triage_reason: str | None
    cause: str | None
    task_id: int | None
    task_state: str | None
    fixed_in_version: int | None  # the version that resolved its task, once resolved
    task_decline_justification: str | None  # why the unit declined its task
    fate: str

    @classmethod
    def of(cls, flag: KnowledgeFlag, *, question: str | None = None, unit: Unit | None = None) -> FlagSnapshot:
        task = flag.task
        return cls(
            id=flag.id, entry_id=flag.entry_id, entry_version=flag.entry_version, entry_question=question,
            unit_code=unit.code if unit else None, kind=flag.kind, text=flag.text, raised_by=flag.raised_by_id,
            raised_at=flag.raised_at, state=flag.state, triaged_at=flag.triaged_at,
            triage_reason=flag.triage_reason, cause=flag.cause, task_id=flag.task_id,
            task_state=task.state if task else None,
            fixed_in_version=task.resolved_version if task and task.state == TaskState.RESOLVED.value else None,
            task_decline_justification=task.decline_justification if task else None, fate=fate(flag, task))


def rows_query() -> Select:
    return (select(KnowledgeFlag, KnowledgeVersion.question, Unit).options(selectinload(KnowledgeFlag.task))
            .join(KnowledgeEntry, KnowledgeEntry.id == KnowledgeFlag.entry_id)
            .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                  & (KnowledgeVersion.number == KnowledgeEntry.published_number))
            .join(Unit, Unit.id == KnowledgeEntry.unit_id))


def snapshots_of(session: Session, query: Select) -> list[FlagSnapshot]:
    """The flags of a `rows_query()`, as snapshots."""
    return [FlagSnapshot.of(f, question=q, unit=u) for f, q, u in session.execute(query)]


def _snapshot(session: Session, flag: KnowledgeFlag) -> FlagSnapshot:
    session.flush()
    return snapshots_of(session, rows_query().where(KnowledgeFlag.id == flag.id))[0]


def _raised_record(flag: FlagSnapshot) -> dict[str, Any]:
    """The audit row of a raised flag: the flag as its answer showed it then (labels included, as recorded
    before the use cases returned snapshots)."""
    return {
        "id": flag.id, "entry_id": flag.entry_id, "entry_version": flag.entry_version,
        "entry_question": flag.entry_question, "unit_code": flag.unit_code, "kind": flag.kind,
        "kind_label": FlagKind(flag.kind).label, "text": flag.text, "raised_by": flag.raised_by,
        "raised_at": flag.raised_at, "state": flag.state, "state_label": FlagState(flag.state).label,
        "triaged_at": flag.triaged_at, "triage_reason": flag.triage_reason, "cause": flag.cause,
        "cause_label": FlagCause(flag.cause).label if flag.cause else None, "task_id": flag.task_id,
        "task_state": flag.task_state, "fixed_in_version": flag.fixed_in_version, "fate": flag.fate,
        "fate_label": "待热线办处理",  # a flag just raised waits for the office
    }


def raise_flag(uow: UnitOfWork, actor: Actor, entry_id: int, *, kind: str, text: str,
               now: datetime) -> FlagSnapshot:
    require_role(actor, Role.OPERATOR)
    kind_ = FlagKind(kind)
    if not (text or "").strip():
        raise ValidationFailed({"text": "请说明建议或错误之处"})
    today = to_shanghai(now).date()
    with uow:
        s = uow.session
        entry = s.get(KnowledgeEntry, entry_id)
        version = entry.published_version if entry is not None else None
        live = (entry is not None and version is not None and entry.status == EntryStatus.PUBLISHED.value
                and version.effective_on <= today
                and (version.expires_on is None or version.expires_on >= today))
        if entry is None or not live:
            raise NotFound(f"知识 {entry_id} 不存在或已下架", code="entry_not_found")
        flag = KnowledgeFlag(entry_id=entry.id, entry_version=entry.published_number, kind=kind_.value,
                             text=text.strip(), raised_by_id=actor.user_id, raised_at=now,
                             state=FlagState.PENDING.value)
        s.add(flag)
        s.flush()
        snapshot = _snapshot(s, flag)
        audit.record(s, actor, "flag.raise", "knowledge_flag", flag.id, None, _raised_record(snapshot), now)
        uow.commit()
        return snapshot


def list_flags(uow: UnitOfWork, actor: Actor, *, state: str | None = None, entry_id: int | None = None, limit: int = 50,
               offset: int = 0) -> tuple[int, list[FlagSnapshot]]:
    """The office sees every flag, an operator their own, a unit those on its knowledge."""
    require_role(actor, Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        query = rows_query()
        if actor.role is Role.OPERATOR:
            query = query.where(KnowledgeFlag.raised_by_id == actor.user_id)
        elif not actor.is_office:
            query = query.where(KnowledgeEntry.unit_id == actor.unit_id)
        if state:
            query = query.where(KnowledgeFlag.state == state)
        if entry_id is not None:
            query = query.where(KnowledgeFlag.entry_id == entry_id)
        total = s.scalar(select(func.count()).select_from(query.with_only_columns(KnowledgeFlag.id).subquery())) or 0
        return total, snapshots_of(s, query.order_by(KnowledgeFlag.id.desc()).limit(limit).offset(offset))


def get_flag(uow: UnitOfWork, actor: Actor, flag_id: int) -> FlagSnapshot:
    require_role(actor, Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        flag = s.get(KnowledgeFlag, flag_id)
        if flag is None:
            raise NotFound(f"反馈 {flag_id} 不存在", code="flag_not_found")
        entry_unit = s.scalar(select(KnowledgeEntry.unit_id).where(KnowledgeEntry.id == flag.entry_id))
        if actor.role is Role.OPERATOR and flag.raised_by_id != actor.user_id:
            raise PermissionDenied("只能查看自己提交的反馈")
        if actor.role.belongs_to_unit and actor.unit_id != entry_unit:
            raise PermissionDenied("只能查看本单位知识收到的反馈")
        return _snapshot(s, flag)


def triage(uow: UnitOfWork, actor: Actor, flag_id: int, *, decision: str, reason: str | None, now: datetime,
           settings: tasks.CorrectionSettings = tasks.DEFAULT_SETTINGS, cause: str | None = None) -> FlagSnapshot:
    """The office passes the flag to the entry's unit as a task, or dismisses it with a reason.

    Passing a wrong-answer flag on, the office may say what caused the wrong answer (`cause`,
    e.g. a new policy handed over late: Huantai 3.3 counts those).
    """
    require_role(actor, Role.OFFICE_ADMIN)
    if decision not in ("task", "dismiss"):
        raise ValidationFailed({"decision": "只能是 task（转交承办单位）或 dismiss（不采纳）"})
    if cause is not None:
        if cause not in {c.value for c in FlagCause}:
            raise ValidationFailed({"cause": "只能是 late_policy（新政策对接不及时）"})
        if decision != "task":
            raise ValidationFailed({"cause": "只有转交承办单位的答错标记才认定错误原因"})
    if decision == "dismiss" and not (reason or "").strip():
        raise ValidationFailed({"reason": "不采纳须说明理由，提交人会看到"})
    with uow:
        s = uow.session
        flag = s.scalar(select(KnowledgeFlag).where(KnowledgeFlag.id == flag_id).with_for_update())
        if flag is None:
            raise NotFound(f"反馈 {flag_id} 不存在", code="flag_not_found")
        if flag.state != FlagState.PENDING.value:
            raise InvalidTransition(f"该反馈已处理（{FlagState(flag.state).label}）", details={"state": flag.state})
        if cause is not None and flag.kind != FlagKind.WRONG_ANSWER.value:
            raise ValidationFailed({"cause": "只有答错标记才认定错误原因"})
        flag.cause = cause
        entry = s.get_one(KnowledgeEntry, flag.entry_id)  # the flag's foreign key: always there
        flag.triaged_by_id, flag.triaged_at = actor.user_id, now
        flag.triage_reason = (reason or "").strip() or None
        if decision == "dismiss":
            flag.state = FlagState.DISMISSED.value
        else:
            detail = flag.text + (f"\n热线办意见：{flag.triage_reason}" if flag.triage_reason else "")
            task = tasks.open_task(
                s, unit_id=entry.unit_id, entry_id=entry.id, source=TaskSource.OPERATOR_SUGGESTION,
                reason=FlagKind(flag.kind).label, detail=detail, received_at=now, now=now,
                calendar=tasks.load_calendar(s), settings=settings, actor=actor)
            flag.task_id = task.id
            flag.state = FlagState.ACCEPTED.value
        s.flush()
        s.expire(flag, ["task"])
        snapshot = _snapshot(s, flag)
        audit.record(s, actor, "flag.triage", "knowledge_flag", flag.id, {"state": FlagState.PENDING.value},
                     {"state": flag.state, "reason": flag.triage_reason, "task_id": flag.task_id,
                      "cause": flag.cause}, now)
        uow.commit()
        return snapshot
