"""What needs the caller's action, and what became of what they raised.

* Maintainers: their unit's drafts and returned change requests; the unit's
  open tasks (overdue, due within one working day, the rest) and reminders.
* Unit reviewers: change requests waiting for unit review; the same tasks and
  reminders; entries outstanding for this cycle's verification.
* The office: change requests waiting for office review, flags to triage,
  declines to rule on, the overdue and due-soon tasks of every unit, and
  overdue reminders.
* Operators: their flags and what became of them.
Everyone also sees the tasks they opened themselves, with their outcome.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kb.access import Actor, require_role
from kb.calendar import to_shanghai
from kb.db import UnitOfWork
from kb.models import (
    ChangeRequest, CorrectionTask, FlagState, KnowledgeEntry, KnowledgeFlag, ReminderKind, Role,
    TaskReminder, TaskState, Unit)
from kb.models.tasks import OPEN_STATES
from kb.services import flags, tasks, verification
from kb.workflow import State

WAITING_FOR = {
    Role.MAINTAINER: (State.DRAFT.value, State.RETURNED.value),
    Role.UNIT_REVIEWER: (State.UNIT_REVIEW.value,),
    Role.OFFICE_ADMIN: (State.OFFICE_REVIEW.value,),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxChangeRequestSnapshot:
    """A change request waiting for the caller: what it changes, where it stands, why it was last returned."""

    id: int
    kind: str
    state: str
    unit_code: str
    entry_id: int | None
    question: str | None  # the proposed question
    return_reason: str | None
    updated_at: datetime

    @classmethod
    def of(cls, cr: ChangeRequest) -> InboxChangeRequestSnapshot:
        return cls(id=cr.id, kind=cr.kind, state=cr.state, unit_code=cr.unit.code, entry_id=cr.entry_id,
                   question=(cr.proposal or {}).get("question"), return_reason=cr.last_return_reason,
                   updated_at=cr.updated_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReminderSnapshot:
    """A reminder sent about an open task (due soon, overdue), with the task's deadline and unit."""

    id: int
    task_id: int
    kind: str
    due_at: datetime  # the task's deadline
    created_at: datetime
    unit_code: str
    unit_name: str
    entry_id: int | None
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationDueCountSnapshot:
    """How many of the unit's entries are still to be verified in the cycle ending on `cycle_ends_on`."""

    cycle_ends_on: date
    entries: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxSnapshot:
    """What waits for the caller and what became of what they raised; each list is the first `limit` of its
    kind, `counts` says how many there are in all (every key, 0 for lists the role does not get)."""

    role: str
    change_requests: tuple[InboxChangeRequestSnapshot, ...] = ()
    tasks_overdue: tuple[tasks.TaskSnapshot, ...] = ()
    tasks_due_soon: tuple[tasks.TaskSnapshot, ...] = ()
    tasks_open: tuple[tasks.TaskSnapshot, ...] = ()
    reminders: tuple[ReminderSnapshot, ...] = ()
    flags_to_triage: tuple[flags.FlagSnapshot, ...] = ()
    declines_to_rule: tuple[tasks.TaskSnapshot, ...] = ()
    my_flags: tuple[flags.FlagSnapshot, ...] = ()
    my_tasks: tuple[tasks.TaskSnapshot, ...] = ()
    verification_due: VerificationDueCountSnapshot | None = None
    counts: dict[str, int]


COUNTED = ("change_requests", "tasks_overdue", "tasks_due_soon", "tasks_open", "reminders", "flags_to_triage",
           "declines_to_rule", "my_flags", "my_tasks")


def _page(session: Session, query: Select, limit: int) -> tuple[int, list[Any]]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return total, list(session.execute(query.limit(limit)))


def inbox(uow: UnitOfWork, actor: Actor, *, now: datetime, cycle_months: int = 12, limit: int = 50) -> InboxSnapshot:
    require_role(actor, Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    found: dict[str, Any] = {}
    counts: dict[str, int] = {}
    with uow:
        s = uow.session

        def unit_scope(query: Select) -> Select:
            return query if actor.is_office else query.where(CorrectionTask.unit_id == actor.unit_id)

        if actor.role in WAITING_FOR:
            query = (select(ChangeRequest).where(ChangeRequest.state.in_(WAITING_FOR[actor.role]))
                     .order_by(ChangeRequest.updated_at, ChangeRequest.id))
            if not actor.is_office:
                query = query.where(ChangeRequest.unit_id == actor.unit_id)
            counts["change_requests"], rows = _page(s, query, limit)
            found["change_requests"] = tuple(InboxChangeRequestSnapshot.of(cr) for (cr,) in rows)

        if actor.role is not Role.OPERATOR:
            horizon = tasks.due_soon_horizon(tasks.load_calendar(s), now)
            open_tasks = unit_scope(tasks.rows_query().where(CorrectionTask.state.in_(OPEN_STATES))) \
                .order_by(CorrectionTask.due_at, CorrectionTask.id)
            buckets = {"tasks_overdue": tasks.is_overdue(now),
                       "tasks_due_soon": ~tasks.is_overdue(now) & (CorrectionTask.due_at <= horizon)}
            if not actor.is_office:
                buckets["tasks_open"] = CorrectionTask.due_at > horizon
            for key, condition in buckets.items():
                query = open_tasks.where(condition)
                counts[key] = s.scalar(select(func.count()).select_from(
                    query.with_only_columns(CorrectionTask.id).order_by(None).subquery())) or 0
                found[key] = tuple(tasks.snapshots_of(s, query.limit(limit), now))

            reminders = (select(TaskReminder, CorrectionTask, Unit)
                         .join(CorrectionTask, CorrectionTask.id == TaskReminder.task_id)
                         .join(Unit, Unit.id == CorrectionTask.unit_id)
                         .where(CorrectionTask.state.in_(OPEN_STATES))
                         .order_by(TaskReminder.created_at.desc(), TaskReminder.id.desc()))
            reminders = unit_scope(reminders)
            if actor.is_office:
                reminders = reminders.where(TaskReminder.kind == ReminderKind.OVERDUE.value)
            counts["reminders"], rows = _page(s, reminders, limit)
            found["reminders"] = tuple(
                ReminderSnapshot(id=r.id, task_id=t.id, kind=r.kind, due_at=t.due_at, created_at=r.created_at,
                                 unit_code=u.code, unit_name=u.name, entry_id=t.entry_id, detail=t.detail)
                for r, t, u in rows)

        if actor.is_office:
            query = flags.rows_query().where(KnowledgeFlag.state == FlagState.PENDING.value) \
                .order_by(KnowledgeFlag.id)
            counts["flags_to_triage"] = s.scalar(select(func.count()).select_from(KnowledgeFlag).where(
                KnowledgeFlag.state == FlagState.PENDING.value)) or 0
            found["flags_to_triage"] = tuple(flags.snapshots_of(s, query.limit(limit)))
            query = tasks.rows_query().where(CorrectionTask.state == TaskState.DECLINE_REQUESTED.value) \
                .order_by(CorrectionTask.decline_requested_at, CorrectionTask.id)
            counts["declines_to_rule"] = s.scalar(select(func.count()).select_from(CorrectionTask).where(
                CorrectionTask.state == TaskState.DECLINE_REQUESTED.value)) or 0
            found["declines_to_rule"] = tuple(tasks.snapshots_of(s, query.limit(limit), now))

        if actor.role is Role.OPERATOR:
            query = flags.rows_query().where(KnowledgeFlag.raised_by_id == actor.user_id) \
                .order_by(KnowledgeFlag.id.desc())
            counts["my_flags"] = s.scalar(select(func.count()).select_from(KnowledgeFlag).where(
                KnowledgeFlag.raised_by_id == actor.user_id)) or 0
            found["my_flags"] = tuple(flags.snapshots_of(s, query.limit(limit)))
        else:
            query = tasks.rows_query().where(CorrectionTask.created_by_id == actor.user_id) \
                .order_by(CorrectionTask.id.desc())
            counts["my_tasks"] = s.scalar(select(func.count()).select_from(CorrectionTask).where(
                CorrectionTask.created_by_id == actor.user_id)) or 0
            found["my_tasks"] = tuple(tasks.snapshots_of(s, query.limit(limit), now))

        if actor.role.belongs_to_unit:
            today = to_shanghai(now).date()
            start, end = verification.cycle_containing(today, cycle_months)
            found["verification_due"] = VerificationDueCountSnapshot(
                cycle_ends_on=end,
                entries=s.scalar(select(func.count()).select_from(KnowledgeEntry).where(
                    KnowledgeEntry.unit_id == actor.unit_id, verification.outstanding_since(start, today))) or 0)
    return InboxSnapshot(role=actor.role.value, **found, counts={key: counts.get(key, 0) for key in COUNTED})
