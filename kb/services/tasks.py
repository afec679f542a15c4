"""Correction tasks: opened → in progress (a change request is linked) → resolved when it is
published, or declined with a justification the office accepts.

Public functions taking a unit of work are use cases (one transaction each).
Functions taking a session (`open_task`, `workable`, `link`, `resolve`,
`resolve_on_withdrawal`, `recompute_deadlines`, and the reactions at the end)
are the steps other use cases, the reactions table (kb/services/reactions.py)
and the scheduler's jobs share; they flush and never commit. A task's outcome (resolved_at, on_time, overdue_marked_at) is
written once, when it happens.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.orm import Session

from kb.access import Actor, require_role
from kb.calendar import END_OF_DAY, SHANGHAI, Deadline, WorkingCalendar, end_of_day, json_value, to_shanghai
from kb.db import UnitOfWork
from kb.deadlines import DEFAULT_RULES, DeadlineRules, FeedbackReason, TaskSource, due_for
from kb.events import ChangePublished, EntryWithdrawn
from kb.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from kb.models import (
    ChangeKind, ChangeRequest, CorrectionTask, EntryStatus, KnowledgeEntry, KnowledgeVersion, PolicyDocument,
    ReminderKind, Role, TaskEvent, TaskReminder, TaskState, Unit)
from kb.models.tasks import OPEN_STATES
from kb.services import audit
from kb.services.calendar_store import load_calendar
from kb.task_workflow import TaskAction, allows, next_task_state
from kb.workflow import State


@dataclass(frozen=True)
class CorrectionSettings:
    """Settings of the correction loop (service/jobs.py reads them from the environment)."""

    rules: DeadlineRules = field(default_factory=lambda: DEFAULT_RULES)
    cycle_months: int = 12          # verification cycle: 12 = calendar year, 6 = half year, 3 = quarter
    verification_lead_days: int = 30  # open verification tasks when the cycle ends within this many days

    def __post_init__(self) -> None:
        if self.cycle_months not in (1, 2, 3, 4, 6, 12):
            raise ValueError(f"cycle_months must divide 12, got {self.cycle_months}")
        if self.verification_lead_days < 0:
            raise ValueError(f"verification_lead_days must not be negative, got {self.verification_lead_days}")


DEFAULT_SETTINGS = CorrectionSettings()

# Who may open which kind of task by hand; the other sources are opened by the system
# (operator suggestions through flag triage, policy changes through the register, verification by the scheduler).
OFFICE_SOURCES = (TaskSource.OFFICE_FEEDBACK, TaskSource.CITY_NOTICE, TaskSource.EMERGENCY)
UNIT_SOURCES = (TaskSource.UNIT_SELF_FOUND,)

OUTCOME_LABELS = {"open": "办理中", "open_overdue": "超期未办结", "resolved_on_time": "按时办结",
                  "resolved_late": "超期办结", "declined": "已退回"}


def due_soon_horizon(calendar: WorkingCalendar, now: datetime) -> datetime:
    """Tasks due at or before this are due within one working day: by the end of the next working day."""
    return end_of_day(calendar.next_working_day(to_shanghai(now).date()))


def is_overdue(now: datetime) -> ColumnElement[bool]:
    """SQL condition: an open task past its deadline. Deadlines are whole seconds (see Deadline.is_met_by)."""
    return CorrectionTask.state.in_(OPEN_STATES) & (CorrectionTask.due_at < now.replace(microsecond=0))


def _local(moment: datetime | None) -> datetime | None:
    return to_shanghai(moment) if moment is not None else None


def outcome(task: CorrectionTask, now: datetime) -> str:
    if task.state == TaskState.RESOLVED.value:
        return "resolved_on_time" if task.on_time else "resolved_late"
    if task.state == TaskState.DECLINED.value:
        return "declined"
    return "open_overdue" if not Deadline(task.due_at, task.provisional).is_met_by(now) else "open"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskEventSnapshot:
    """One entry of a task's history: what happened, when, by whom, with its note and data."""

    kind: str
    at: datetime
    actor_id: int | None
    note: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: TaskEvent) -> TaskEventSnapshot:
        return cls(kind=event.kind, at=event.at, actor_id=event.actor_id, note=event.note, data=dict(event.data or {}))


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskSnapshot:
    """A correction task as read inside the transaction, with its unit, its entry's published question and
    its change request's state; `outcome` is the task's outcome at the moment it was read (`outcome()`)."""

    id: int
    unit_code: str
    unit_name: str
    entry_id: int | None
    entry_question: str | None
    source: str
    reason: str | None
    detail: str
    received_at: datetime
    due_at: datetime
    provisional: bool
    working_days: int | None
    state: str
    change_request_id: int | None
    change_request_state: str | None
    policy_document_id: int | None
    cycle_starts_on: date | None
    cycle_ends_on: date | None
    decline_justification: str | None
    decline_requested_at: datetime | None
    decline_rejection: str | None
    declined_at: datetime | None
    resolved_at: datetime | None
    resolved_version: int | None
    on_time: bool | None
    overdue_marked_at: datetime | None
    outcome: str
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    events: tuple[TaskEventSnapshot, ...] | None = None  # the history, when one task is read; None in lists

    @classmethod
    def of(cls, task: CorrectionTask, now: datetime, *, unit: Unit | None = None, question: str | None = None,
           change_request_state: str | None = None, events: bool = False) -> TaskSnapshot:
        unit = unit or task.unit
        return cls(
            id=task.id, unit_code=unit.code, unit_name=unit.name, entry_id=task.entry_id, entry_question=question,
            source=task.source, reason=task.reason, detail=task.detail, received_at=task.received_at,
            due_at=task.due_at, provisional=task.provisional, working_days=task.working_days, state=task.state,
            change_request_id=task.change_request_id, change_request_state=change_request_state,
            policy_document_id=task.policy_document_id, cycle_starts_on=task.cycle_starts_on,
            cycle_ends_on=task.cycle_ends_on, decline_justification=task.decline_justification,
            decline_requested_at=task.decline_requested_at, decline_rejection=task.decline_rejection,
            declined_at=task.declined_at, resolved_at=task.resolved_at, resolved_version=task.resolved_version,
            on_time=task.on_time, overdue_marked_at=task.overdue_marked_at, outcome=outcome(task, now),
            created_by=task.created_by_id, created_at=task.created_at, updated_at=task.updated_at,
            events=tuple(TaskEventSnapshot.of(e) for e in task.events) if events else None)


def rows_query() -> Select:
    """Tasks with what their views show, in one query."""
    return (select(CorrectionTask, Unit, KnowledgeVersion.question, ChangeRequest.state)
            .join(Unit, Unit.id == CorrectionTask.unit_id)
            .outerjoin(KnowledgeEntry, KnowledgeEntry.id == CorrectionTask.entry_id)
            .outerjoin(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                       & (KnowledgeVersion.number == KnowledgeEntry.published_number))
            .outerjoin(ChangeRequest, ChangeRequest.id == CorrectionTask.change_request_id))


def snapshots_of(session: Session, query: Select, now: datetime) -> list[TaskSnapshot]:
    """The tasks of a `rows_query()`, as snapshots."""
    return [TaskSnapshot.of(t, now, unit=u, question=q, change_request_state=crs)
            for t, u, q, crs in session.execute(query)]


def _jsonable(data: dict) -> dict:
    return json.loads(json.dumps(data, default=json_value))


def _event(session: Session, task: CorrectionTask, kind: str, at: datetime, actor: Actor | None,
           note: str | None = None, **data: Any) -> None:
    session.add(TaskEvent(task_id=task.id, kind=kind, at=at, actor_id=actor.user_id if actor else None,
                          note=note, data=_jsonable(data)))


# --- steps shared with other use cases and the jobs (flush, never commit) ---------------------------------


def counted_from(source: TaskSource, received_at: datetime, *, policy_published_on: date | None = None) -> datetime:
    """The moment a task's deadline is counted from: its receipt, except for a policy change.

    A policy change is due N working days after the policy was published
    (Art. 10(2)), so it counts from the start of the publication day in
    Asia/Shanghai when that day is known and not after the task was received;
    a policy registered before its stated publication counts from receipt.
    The task's `received_at` stays the moment the unit received it.
    """
    if TaskSource(source) is not TaskSource.POLICY_CHANGE or policy_published_on is None:
        return received_at
    published = datetime.combine(policy_published_on, time.min, tzinfo=SHANGHAI)
    return published if published <= received_at else received_at


def deadline_of(calendar: WorkingCalendar, settings: CorrectionSettings, source: TaskSource, received_at: datetime,
                *, working_days: int | None = None, policy_effective_on: date | None = None,
                policy_published_on: date | None = None, cycle_ends_on: date | None = None) -> Deadline:
    """The deadline under the settings, or under the number of working days a task was opened with.

    `received_at` is the task's receipt; a policy change counts from its
    publication instead (see `counted_from`).
    """
    rules = settings.rules
    if working_days is not None and source is not TaskSource.EMERGENCY:
        rules = DeadlineRules(working_days={**rules.working_days, source: working_days},
                              emergency_hours=rules.emergency_hours)
    start = counted_from(source, received_at, policy_published_on=policy_published_on)
    return due_for(source, start, calendar, rules, policy_effective_on=policy_effective_on,
                   cycle_ends_on=cycle_ends_on)


def open_task(session: Session, *, unit_id: int, source: TaskSource, detail: str, received_at: datetime, now: datetime,
              calendar: WorkingCalendar, settings: CorrectionSettings, actor: Actor | None = None,
              entry_id: int | None = None, reason: str | None = None, policy_document_id: int | None = None,
              policy_change_id: int | None = None, policy_effective_on: date | None = None,
              policy_published_on: date | None = None, cycle: tuple[date, date] | None = None) -> CorrectionTask:
    source = TaskSource(source)
    deadline = deadline_of(calendar, settings, source, received_at, policy_effective_on=policy_effective_on,
                           policy_published_on=policy_published_on, cycle_ends_on=cycle[1] if cycle else None)
    start = counted_from(source, received_at, policy_published_on=policy_published_on)
    counting = {"counted_from": start} if start != received_at else {}
    task = CorrectionTask(
        unit_id=unit_id, entry_id=entry_id, source=source.value, reason=reason, detail=detail,
        received_at=received_at, due_at=deadline.due_at, provisional=deadline.provisional,
        working_days=None if source is TaskSource.EMERGENCY else settings.rules.working_days[source],
        state=TaskState.OPEN.value, policy_document_id=policy_document_id, policy_change_id=policy_change_id,
        cycle_starts_on=cycle[0] if cycle else None, cycle_ends_on=cycle[1] if cycle else None,
        created_by_id=actor.user_id if actor else None, created_at=now, updated_at=now)
    session.add(task)
    session.flush()
    _event(session, task, "opened", now, actor, detail, due_at=deadline.due_at, provisional=deadline.provisional,
           **counting)
    audit.record(session, actor, "task.open", "correction_task", task.id, None,
                 {"unit_id": unit_id, "entry_id": entry_id, "source": source.value, "reason": reason,
                  "received_at": received_at, **counting, "due_at": deadline.due_at,
                  "provisional": deadline.provisional}, now)
    return task


def resolve(session: Session, task: CorrectionTask, at: datetime, now: datetime, *, version: int | None,
            note: str, actor: Actor | None = None, unit_done_at: datetime | None = None) -> None:
    """Record the outcome: resolved at `at`; on time when the unit did its part by the deadline.

    `unit_done_at` is when the unit reported the fix that `at` published (Licheng Art. 8(3), 10(1), 13:
    the unit "完成修改并报热线办"); the office's own time to publish is not held against the unit. It
    defaults to `at` (a verification or a withdrawal is the unit's act and done at once).
    """
    done = unit_done_at if unit_done_at is not None and unit_done_at <= at else at
    task.state = next_task_state(task.state, TaskAction.RESOLVE).value
    task.resolved_at = at
    task.unit_done_at = done
    task.resolved_version = version
    task.on_time = Deadline(task.due_at, task.provisional).is_met_by(done)
    task.updated_at = now
    _event(session, task, "resolved", now, actor, note, resolved_at=at, unit_done_at=done, on_time=task.on_time,
           version=version)
    audit.record(session, actor, "task.resolve", "correction_task", task.id, None,
                 {"resolved_at": at, "unit_done_at": done, "on_time": task.on_time, "version": version,
                  "note": note}, now)
    session.flush()


WITHDRAWAL_NOTE = "知识已下架，任务随之办结"


def resolve_on_withdrawal(session: Session, entry_id: int, now: datetime, *, actor: Actor | None = None,
                          unit_done_at: datetime | None = None) -> list[int]:
    """The entry was withdrawn: its open tasks are resolved as of the withdrawal; the ids resolved.

    Both ways an entry leaves the knowledge base call this in the withdrawing
    transaction: the job that withdraws expired notices and the publication of
    a delete or revoke change request. Once withdrawn the entry no longer
    serves the content the task is about, and no change to it can be published
    any more, so a task left open could only go overdue. Each is resolved at
    the moment of withdrawal, with no version; on time or late is judged by its
    deadline as usual. Change requests linked to these tasks that are still in
    flight stay as they are: their publication is refused (the entry is
    withdrawn) and their authors cancel them.
    """
    tasks = list(session.scalars(
        select(CorrectionTask).where(CorrectionTask.entry_id == entry_id, CorrectionTask.state.in_(OPEN_STATES))
        .order_by(CorrectionTask.id).with_for_update()))
    for task in tasks:
        resolve(session, task, now, now, version=None, note=WITHDRAWAL_NOTE, actor=actor, unit_done_at=unit_done_at)
    return [t.id for t in tasks]


def _emergency_in_hours(task: CorrectionTask) -> bool:
    """Whether an emergency task was given clock hours (`emergency_hours`) rather than the working day.

    The rule is read off the deadline it was given: the same-working-day rule
    always ends a day (23:59:59 local, whole second), an hours deadline is a
    whole number of hours after receipt. A receipt at exactly hh:59:59.000000
    fits both and is read as hours, so at worst it is not recounted.
    """
    due = to_shanghai(task.due_at)
    if due.time() != END_OF_DAY:
        return True
    elapsed = task.due_at - task.received_at
    return elapsed >= timedelta(hours=1) and elapsed % timedelta(hours=1) == timedelta(0)


def recompute_deadlines(session: Session, calendar: WorkingCalendar, settings: CorrectionSettings, now: datetime, *,
                        only_provisional: bool = False, task_ids: list[int] | None = None) -> list[int]:
    """Recount the deadlines of open tasks on the current calendar; the ids whose deadline changed.

    A deadline depends only on the days between the moment it counts from
    (receipt; a policy's publication, see `counted_from`) and the due day, so
    recounting every open task after any calendar change moves exactly those
    the change concerns. Each keeps the rule it was opened with: its number of
    working days; for an emergency, clock hours (never recounted: no calendar
    change moves them) or the end of the same working day (recounted under
    that rule, whatever `emergency_hours` says now). Reminders that no longer hold are removed so they are sent again at
    the right time.
    """
    query = select(CorrectionTask).where(CorrectionTask.state.in_(OPEN_STATES)).order_by(CorrectionTask.id)
    if only_provisional:
        query = query.where(CorrectionTask.provisional.is_(True))
    if task_ids is not None:
        query = query.where(CorrectionTask.id.in_(task_ids))
    policy_dates: dict[int | None, tuple[date | None, date | None]] = {
        doc_id: (effective_on, published_on) for doc_id, effective_on, published_on in session.execute(
            select(PolicyDocument.id, PolicyDocument.effective_on, PolicyDocument.published_on))}
    changed = []
    for task in session.scalars(query.with_for_update()):
        source = TaskSource(task.source)
        task_settings = settings
        if source is TaskSource.EMERGENCY:
            if _emergency_in_hours(task):
                continue
            task_settings = CorrectionSettings(rules=DeadlineRules(working_days=settings.rules.working_days))
        policy_effective_on = policy_published_on = None
        if source is TaskSource.POLICY_CHANGE:
            policy_effective_on, policy_published_on = policy_dates.get(task.policy_document_id, (None, None))
        deadline = deadline_of(calendar, task_settings, source, task.received_at, working_days=task.working_days,
                               policy_effective_on=policy_effective_on, policy_published_on=policy_published_on,
                               cycle_ends_on=task.cycle_ends_on)
        if deadline.due_at == task.due_at and deadline.provisional == task.provisional:
            continue
        before = {"due_at": _local(task.due_at), "provisional": task.provisional}
        moved_later = deadline.due_at > task.due_at
        task.due_at, task.provisional, task.updated_at = deadline.due_at, deadline.provisional, now
        if moved_later:
            stale = [ReminderKind.DUE_SOON.value]
            if task.overdue_marked_at is not None and Deadline(task.due_at, False).is_met_by(now):
                task.overdue_marked_at = None  # it was overdue only under the provisional count
                stale.append(ReminderKind.OVERDUE.value)
            session.execute(delete(TaskReminder).where(TaskReminder.task_id == task.id,
                                                       TaskReminder.kind.in_(stale)))
        _event(session, task, "deadline_recomputed", now, None, "日历更新后重新计算期限",
               before=before, after={"due_at": _local(task.due_at), "provisional": task.provisional})
        changed.append(task.id)
    session.flush()
    return changed


# --- use cases ---------------------------------------------------------------------------------------------


def _scoped(session: Session, actor: Actor, task_id: int, *, for_update: bool = False) -> CorrectionTask:
    require_role(actor, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    query = select(CorrectionTask).where(CorrectionTask.id == task_id)
    if for_update:
        query = query.with_for_update(of=CorrectionTask)
    task = session.scalar(query)
    if task is None:
        raise NotFound(f"任务 {task_id} 不存在", code="task_not_found")
    if not actor.is_office and actor.unit_id != task.unit_id:
        raise PermissionDenied("只能查看和处理本单位的纠错任务（谁提供谁负责）")
    return task


def _snapshot(session: Session, task: CorrectionTask, now: datetime, *, events: bool = True) -> TaskSnapshot:
    session.flush()
    session.expire(task, ["events"])
    question = None
    if task.entry_id is not None:
        entry = session.get(KnowledgeEntry, task.entry_id)
        question = entry.published_version.question if entry is not None else None
    cr_state = session.scalar(select(ChangeRequest.state).where(ChangeRequest.id == task.change_request_id)) \
        if task.change_request_id else None
    return TaskSnapshot.of(task, now, question=question, change_request_state=cr_state, events=events)


def create_task(uow: UnitOfWork, actor: Actor, *, source: str, detail: str, now: datetime,
                settings: CorrectionSettings = DEFAULT_SETTINGS, unit_code: str | None = None,
                entry_id: int | None = None, reason: str | None = None,
                received_at: datetime | None = None) -> TaskSnapshot:
    """The office sends feedback, a city notice or an emergency; a unit records an error or gap it found."""
    require_role(actor, Role.OFFICE_ADMIN, Role.MAINTAINER, Role.UNIT_REVIEWER)
    source_ = TaskSource(source)
    if actor.is_office and source_ not in OFFICE_SOURCES:
        if source_ in UNIT_SOURCES:
            raise ValidationFailed({"source": "单位自查纠错由承办单位自行登记"})
        raise ValidationFailed({"source": "此类任务由系统生成（话务员建议经热线办转交、政策文件登记、年度校核）"})
    if not actor.is_office and source_ not in UNIT_SOURCES:
        raise PermissionDenied("承办单位只能登记本单位自查发现的错误或缺漏（unit_self_found）")
    if not (detail or "").strip():
        raise ValidationFailed({"detail": "须说明错误或缺漏的内容"})
    if source_ is TaskSource.OFFICE_FEEDBACK:
        if reason not in {r.value for r in FeedbackReason}:
            raise ValidationFailed({"reason": "热线办反馈须注明原因：" + "、".join(
                f"{r.value}（{r.label}）" for r in FeedbackReason)})
    if received_at is not None:
        if not actor.is_office:
            raise ValidationFailed({"received_at": "只有热线办可以登记收到时间"})
        if received_at.tzinfo is None:
            raise ValidationFailed({"received_at": "须带时区，例如 2026-09-30T10:00:00+08:00"})
        if received_at > now:
            raise ValidationFailed({"received_at": "收到时间不能晚于当前时间"})
    with uow:
        s = uow.session
        unit_id = None
        if unit_code:
            unit_id = s.scalar(select(Unit.id).where(Unit.code == unit_code))
            if unit_id is None:
                raise ValidationFailed({"unit_code": f"单位 {unit_code} 不存在"})
        if entry_id is not None:
            entry = s.get(KnowledgeEntry, entry_id)
            if entry is None:
                raise NotFound(f"知识 {entry_id} 不存在", code="entry_not_found")
            if entry.status != EntryStatus.PUBLISHED.value:
                raise ValidationFailed({"entry_id": "该知识已下架，无需纠错"})
            if unit_id is not None and unit_id != entry.unit_id:
                raise ValidationFailed({"unit_code": "任务的承办单位须是该知识的承办单位"})
            unit_id = entry.unit_id
        if not actor.is_office:
            if unit_id is not None and unit_id != actor.unit_id:
                raise PermissionDenied("只能登记本单位知识的错误或缺漏（谁提供谁负责）")
            unit_id = actor.unit_id
        if unit_id is None:
            raise ValidationFailed({"unit_code": "须指明承办单位或知识"})
        task = open_task(s, unit_id=unit_id, source=source_, detail=detail.strip(), reason=reason,
                         received_at=received_at or now, now=now, calendar=load_calendar(s), settings=settings,
                         actor=actor, entry_id=entry_id)
        snapshot = _snapshot(s, task, now)
        uow.commit()
        return snapshot


def get_task(uow: UnitOfWork, actor: Actor, task_id: int, *, now: datetime) -> TaskSnapshot:
    with uow:
        return _snapshot(uow.session, _scoped(uow.session, actor, task_id), now)


def list_tasks(uow: UnitOfWork, actor: Actor, *, now: datetime, state: str | None = None, unit_code: str | None = None,
               source: str | None = None, entry_id: int | None = None, overdue: bool | None = None,
               limit: int = 50, offset: int = 0) -> tuple[int, list[TaskSnapshot]]:
    """Tasks of the caller's unit (the office: of every unit), soonest deadline first."""
    require_role(actor, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        query = rows_query()
        if not actor.is_office:
            query = query.where(CorrectionTask.unit_id == actor.unit_id)
        if unit_code:
            query = query.where(Unit.code == unit_code)
        if state == "active":
            query = query.where(CorrectionTask.state.in_(OPEN_STATES))
        elif state:
            query = query.where(CorrectionTask.state == state)
        if source:
            query = query.where(CorrectionTask.source == source)
        if entry_id is not None:
            query = query.where(CorrectionTask.entry_id == entry_id)
        if overdue is not None:
            late = is_overdue(now)
            query = query.where(late if overdue else ~late)
        total = s.scalar(select(func.count()).select_from(query.with_only_columns(CorrectionTask.id).subquery())) or 0
        query = query.order_by(CorrectionTask.state.in_(OPEN_STATES).desc(), CorrectionTask.due_at,
                               CorrectionTask.id).limit(limit).offset(offset)
        return total, snapshots_of(s, query, now)


def _check_linkable(task: CorrectionTask, cr: ChangeRequest) -> None:
    if cr.unit_id != task.unit_id:
        raise ValidationFailed({"change_request_id": "变更申请不属于该任务的承办单位"})
    if cr.kind == ChangeKind.SUGGESTION.value:
        raise ValidationFailed({"change_request_id": "知识建议不改变知识，不能用来办结任务"})
    if cr.state == State.CANCELLED.value:
        raise ValidationFailed({"change_request_id": "该变更申请已撤回"})
    if task.entry_id is not None and cr.entry_id != task.entry_id:
        raise ValidationFailed({"change_request_id": f"变更申请须针对任务所指的知识 {task.entry_id}"})
    if task.entry_id is None and cr.kind not in (ChangeKind.NEW.value, ChangeKind.MODIFY.value):
        raise ValidationFailed({"change_request_id": "补充缺漏须新增或修改知识"})
    if cr.state == State.PUBLISHED.value and cr.published_at is not None and cr.published_at < task.received_at:
        raise ValidationFailed({"change_request_id": "该变更在任务下达之前已发布，不能用来办结此任务"})


def _require_workable(task: CorrectionTask) -> None:
    if not allows(task.state, TaskAction.LINK):
        raise InvalidTransition(f"“{TaskState(task.state).label}”的任务不能再关联或起草变更申请",
                                details={"state": task.state})


def workable(session: Session, actor: Actor, task_id: int) -> CorrectionTask:
    """Step: the task, locked, when the actor may work on it and it is still open to a change."""
    task = _scoped(session, actor, task_id, for_update=True)
    _require_workable(task)
    return task


def link(session: Session, actor: Actor, task: CorrectionTask, cr: ChangeRequest, now: datetime) -> None:
    """Step: `cr` is the change that fixes `task`; resolved at once if it was already published."""
    _require_workable(task)
    _check_linkable(task, cr)
    before = {"state": task.state, "change_request_id": task.change_request_id}
    task.change_request_id = cr.id
    task.state = next_task_state(task.state, TaskAction.LINK).value
    task.updated_at = now
    _event(session, task, "linked", now, actor, f"关联变更申请 {cr.id}", change_request_id=cr.id)
    audit.record(session, actor, "task.link", "correction_task", task.id, before,
                 {"state": task.state, "change_request_id": cr.id}, now)
    session.flush()
    if cr.state == State.PUBLISHED.value and cr.published_at is not None:  # fixed before it was linked: resolved when it was published
        resolve(session, task, cr.published_at, now, version=cr.published_number,
                note=f"变更申请 {cr.id} 已发布", actor=actor, unit_done_at=reported_at(cr, cr.published_at))


def link_change_request(uow: UnitOfWork, actor: Actor, task_id: int, *, change_request_id: int,
                        now: datetime) -> TaskSnapshot:
    """Say which change request fixes the task; it resolves when that change is published."""
    with uow:
        s = uow.session
        task = _scoped(s, actor, task_id, for_update=True)
        _require_workable(task)
        # Locked like publication locks it, so a publication cannot slip in between check and link.
        cr = s.scalar(select(ChangeRequest).where(ChangeRequest.id == change_request_id).with_for_update())
        if cr is None:
            raise NotFound(f"变更申请 {change_request_id} 不存在", code="change_request_not_found")
        link(s, actor, task, cr, now)
        snapshot = _snapshot(s, task, now)
        uow.commit()
        return snapshot


def request_decline(uow: UnitOfWork, actor: Actor, task_id: int, *, justification: str,
                    now: datetime) -> TaskSnapshot:
    """The unit says the task is not theirs to fix (e.g. the answer is right); the office rules on it."""
    require_role(actor, Role.MAINTAINER, Role.UNIT_REVIEWER)
    if not (justification or "").strip():
        raise ValidationFailed({"justification": "申请退回须说明理由"})
    with uow:
        s = uow.session
        task = _scoped(s, actor, task_id, for_update=True)
        if not allows(task.state, TaskAction.REQUEST_DECLINE):
            raise InvalidTransition(f"“{TaskState(task.state).label}”的任务不能申请退回",
                                    details={"state": task.state})
        before = {"state": task.state}
        task.state = next_task_state(task.state, TaskAction.REQUEST_DECLINE).value
        task.decline_justification = justification.strip()
        task.decline_requested_at = now
        task.updated_at = now
        _event(s, task, "decline_requested", now, actor, task.decline_justification)
        audit.record(s, actor, "task.request_decline", "correction_task", task.id, before,
                     {"state": task.state, "justification": task.decline_justification}, now)
        snapshot = _snapshot(s, task, now)
        uow.commit()
        return snapshot


def rule_on_decline(uow: UnitOfWork, actor: Actor, task_id: int, *, accept: bool, reason: str | None,
                    now: datetime) -> TaskSnapshot:
    """The office accepts the unit's justification (the task is declined) or rejects it (back to work)."""
    require_role(actor, Role.OFFICE_ADMIN)
    if not accept and not (reason or "").strip():
        raise ValidationFailed({"reason": "不同意退回须说明理由"})
    with uow:
        s = uow.session
        task = _scoped(s, actor, task_id, for_update=True)
        if not allows(task.state, TaskAction.ACCEPT_DECLINE):
            raise InvalidTransition("只有申请退回的任务才能审定", details={"state": task.state})
        if accept:
            task.state = next_task_state(task.state, TaskAction.ACCEPT_DECLINE).value
            task.declined_at = now
            _event(s, task, "decline_accepted", now, actor, reason)
        else:
            back_to_work = TaskAction.REJECT_DECLINE_LINKED if task.change_request_id else TaskAction.REJECT_DECLINE
            task.state = next_task_state(task.state, back_to_work).value
            task.decline_rejection = (reason or "").strip()
            _event(s, task, "decline_rejected", now, actor, task.decline_rejection)
        task.updated_at = now
        audit.record(s, actor, "task.decline_accepted" if accept else "task.decline_rejected", "correction_task",
                     task.id, {"state": TaskState.DECLINE_REQUESTED.value}, {"state": task.state, "reason": reason},
                     now)
        snapshot = _snapshot(s, task, now)
        uow.commit()
        return snapshot


# --- reactions to published changes and withdrawn entries (kb/services/reactions.py) -------------------------


def resolve_linked_tasks(session: Session, event: ChangePublished) -> list[int]:
    """The open tasks linked to the published change are resolved by it; the ids resolved."""
    linked = list(session.scalars(
        select(CorrectionTask).where(CorrectionTask.change_request_id == event.change_request_id,
                                     CorrectionTask.state.in_(OPEN_STATES))
        .order_by(CorrectionTask.id).with_for_update()))
    reported = _reported(session, event.change_request_id, event.at)
    for task in linked:
        resolve(session, task, event.at, event.at, version=event.version,
                note=f"变更申请 {event.change_request_id} 已发布", unit_done_at=reported)
    return [t.id for t in linked]


def resolve_verification_on_update(session: Session, event: ChangePublished) -> list[int]:
    """A published modification counts as this cycle's verification of its entry, and answers an expiry
    warning (the entry was extended or replaced)."""
    if event.entry_id is None or event.kind != ChangeKind.MODIFY.value:
        return []
    reported = _reported(session, event.change_request_id, event.at)
    verified = resolve_verification(session, event.entry_id, event.at, version=event.version,
                                    note=f"知识已通过变更申请 {event.change_request_id} 更新", unit_done_at=reported)
    return verified + resolve_open(session, event.entry_id, TaskSource.EXPIRY, event.at, version=event.version,
                                   note=f"知识已通过变更申请 {event.change_request_id} 延长或替换",
                                   unit_done_at=reported)


def resolve_on_withdrawal_event(session: Session, event: EntryWithdrawn) -> list[int]:
    """The withdrawn entry's open tasks, verification included, are resolved (`resolve_on_withdrawal`); a
    deletion or revocation is the unit's as of its report (`reported_at`)."""
    reported = _reported(session, event.change_request_id, event.at) if event.change_request_id else None
    return resolve_on_withdrawal(session, event.entry_id, event.at, unit_done_at=reported)


def _reported(session: Session, change_request_id: int, at: datetime) -> datetime:
    cr = session.get(ChangeRequest, change_request_id)
    return reported_at(cr, at) if cr is not None else at


def reported_at(cr: ChangeRequest, now: datetime) -> datetime:
    """When the unit sent this change to the office: its reviewer's last approval (Art. 8(3) "报热线办").

    A change the office published without a unit approval (urgent knowledge, or the office's own) is the
    unit's at publication.
    """
    approvals = [r.decided_at for r in cr.reviews if r.stage == "unit" and r.decision == "approve"]
    return max(approvals) if approvals else now


def resolve_verification(session: Session, entry_id: int, now: datetime, *, version: int | None, note: str,
                         actor: Actor | None = None, unit_done_at: datetime | None = None) -> list[int]:
    """Open yearly-verification tasks of the entry are done: it was updated or verified."""
    return resolve_open(session, entry_id, TaskSource.YEARLY_VERIFICATION, now, version=version, note=note,
                        actor=actor, unit_done_at=unit_done_at)


def resolve_open(session: Session, entry_id: int, source: TaskSource, now: datetime, *, version: int | None, note: str,
                 actor: Actor | None = None, unit_done_at: datetime | None = None) -> list[int]:
    """The entry's open tasks of one source are done."""
    tasks = list(session.scalars(
        select(CorrectionTask).where(CorrectionTask.entry_id == entry_id,
                                     CorrectionTask.source == TaskSource(source).value,
                                     CorrectionTask.state.in_(OPEN_STATES))
        .order_by(CorrectionTask.id).with_for_update()))
    for task in tasks:
        resolve(session, task, now, now, version=version, note=note, actor=actor, unit_done_at=unit_done_at)
    return [t.id for t in tasks]
