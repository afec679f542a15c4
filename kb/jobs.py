"""The scheduled jobs of the correction loop, the record of their runs, and the lease that
lets exactly one process run them.

Each job takes its collaborators (a unit-of-work factory, the clock, the
settings), selects the rows that are due and not yet done, and handles them
in batches, one transaction per batch, re-checking each row under lock. A
rerun therefore does nothing, and a run that dies halfway leaves committed
batches done and the rest for the next run. Unique constraints (one reminder
per task and kind, one verification task per entry and cycle) hold even if
two runs ever overlap. See docs/corrections.md.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from kb import events
from kb.calendar import WorkingCalendar, to_shanghai
from kb.db import UnitOfWork, UowFactory
from kb.deadlines import TASK_SOURCE_TITLES, TaskSource
from kb.models import (
    Category, CorrectionTask, EntryStatus, JobRun, KnowledgeEntry, KnowledgeVersion, ReminderKind, SchedulerLease,
    TaskReminder)
from kb.models.search import SearchLog
from kb.models.tasks import OPEN_STATES
from kb.search import outbox
from kb.services import audit, reactions, tasks, verification, webhooks
from kb.services.categories import ancestry
from kb.services.tasks import DEFAULT_SETTINGS, CorrectionSettings

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    uow_factory: UowFactory  # a new UnitOfWork per call
    clock: Callable[[], datetime]
    settings: CorrectionSettings = field(default_factory=lambda: DEFAULT_SETTINGS)
    batch_size: int = 100


def _ids(ctx: JobContext, query: Select[Any]) -> list[int]:
    with ctx.uow_factory() as uow:
        return list(uow.session.scalars(query))


def _batches(ids: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _in_batches(ctx: JobContext, ids: list[int], step: Callable[..., bool], now: datetime, **kwargs: Any) -> int:
    """Apply `step(session, id, now, ...)` to each id, one transaction per batch; how many it acted on."""
    done = 0
    for batch in _batches(ids, ctx.batch_size):
        with ctx.uow_factory() as uow:
            acted = sum(bool(step(uow.session, row_id, now, **kwargs)) for row_id in batch)
            uow.commit()
        done += acted
    return done


def _remind(session: Session, task: CorrectionTask, kind: ReminderKind, now: datetime) -> bool:
    exists = session.scalar(select(TaskReminder.id).where(TaskReminder.task_id == task.id,
                                                          TaskReminder.kind == kind.value))
    if exists:
        return False
    session.add(TaskReminder(task_id=task.id, kind=kind.value, due_at=task.due_at, created_at=now))
    session.flush()
    return True


# --- mark overdue ----------------------------------------------------------------------------------------------


def _overdue(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (tasks.is_overdue(now), CorrectionTask.overdue_marked_at.is_(None))


def _mark_overdue_one(session: Session, task_id: int, now: datetime) -> bool:
    task = session.scalar(select(CorrectionTask).where(CorrectionTask.id == task_id, *_overdue(now))
                          .with_for_update())
    if task is None:
        return False
    task.overdue_marked_at = now
    task.updated_at = now
    tasks._event(session, task, "overdue", now, None, "已超过办理期限", due_at=task.due_at)
    _remind(session, task, ReminderKind.OVERDUE, now)
    webhooks.enqueue(session, "task.overdue", _overdue_payload(task), now)
    return True


def _overdue_payload(task: CorrectionTask) -> dict:
    """The `data` of a task.overdue delivery."""
    return {"task_id": task.id, "unit_code": task.unit.code, "unit_name": task.unit.name, "source": task.source,
            "source_label": TASK_SOURCE_TITLES[task.source], "reason": task.reason, "entry_id": task.entry_id,
            "received_at": to_shanghai(task.received_at).isoformat(), "due_at": to_shanghai(task.due_at).isoformat(),
            "overdue_marked_at": to_shanghai(task.overdue_marked_at).isoformat(), "state": task.state}


def mark_overdue(ctx: JobContext) -> dict:
    """Record, once, that an open task went past its deadline; remind its unit."""
    now = ctx.clock()
    ids = _ids(ctx, select(CorrectionTask.id).where(*_overdue(now)).order_by(CorrectionTask.id))
    return {"marked": _in_batches(ctx, ids, _mark_overdue_one, now)}


# --- remind of tasks due within one working day ------------------------------------------------------------------


def _due_soon(now: datetime, horizon: datetime) -> tuple[ColumnElement[bool], ...]:
    reminded = select(TaskReminder.id).where(TaskReminder.task_id == CorrectionTask.id,
                                             TaskReminder.kind == ReminderKind.DUE_SOON.value)
    return (CorrectionTask.state.in_(OPEN_STATES), ~tasks.is_overdue(now), CorrectionTask.due_at <= horizon,
            ~reminded.exists())


def _remind_one(session: Session, task_id: int, now: datetime, horizon: datetime) -> bool:
    task = session.scalar(select(CorrectionTask).where(CorrectionTask.id == task_id, *_due_soon(now, horizon))
                          .with_for_update(of=CorrectionTask))
    return task is not None and _remind(session, task, ReminderKind.DUE_SOON, now)


def remind_due_soon(ctx: JobContext) -> dict:
    """One reminder per task when it is due by the end of the next working day."""
    now = ctx.clock()
    with ctx.uow_factory() as uow:
        horizon = tasks.due_soon_horizon(tasks.load_calendar(uow.session), now)
    ids = _ids(ctx, select(CorrectionTask.id).where(*_due_soon(now, horizon)).order_by(CorrectionTask.id))
    return {"reminded": _in_batches(ctx, ids, _remind_one, now, horizon=horizon)}


# --- yearly verification -----------------------------------------------------------------------------------------


def _needs_verification_task(cycle_start: date, today: date) -> tuple[ColumnElement[bool], ...]:
    has_task = select(CorrectionTask.id).where(CorrectionTask.entry_id == KnowledgeEntry.id,
                                               CorrectionTask.cycle_starts_on == cycle_start)
    return (verification.outstanding_since(cycle_start, today), ~has_task.exists())


def _open_verification_one(session: Session, entry_id: int, now: datetime, cycle: tuple[date, date],
                           calendar: WorkingCalendar, settings: CorrectionSettings) -> bool:
    today = to_shanghai(now).date()
    entry = session.scalar(select(KnowledgeEntry).where(KnowledgeEntry.id == entry_id,
                                                        *_needs_verification_task(cycle[0], today))
                           .with_for_update(of=KnowledgeEntry))
    if entry is None:
        return False
    tasks.open_task(session, unit_id=entry.unit_id, entry_id=entry.id, source=TaskSource.YEARLY_VERIFICATION,
                    reason="年度校核", received_at=now, now=now, calendar=calendar, settings=settings, cycle=cycle,
                    detail=f"本周期（{cycle[0].isoformat()} 至 {cycle[1].isoformat()}）尚未更新或校核，"
                           "请核实内容：仍然准确的请校核确认，需要修改的请提交变更申请")
    return True


def open_verification_tasks(ctx: JobContext) -> dict:
    """Open one verification task per outstanding entry, once the cycle's end is near."""
    now = ctx.clock()
    today = to_shanghai(now).date()
    cycle = verification.cycle_containing(today, ctx.settings.cycle_months)
    opens_on = cycle[1] - timedelta(days=ctx.settings.verification_lead_days)
    if today < opens_on:
        return {"opened": 0, "opens_on": opens_on.isoformat()}
    ids = _ids(ctx, select(KnowledgeEntry.id).where(*_needs_verification_task(cycle[0], today))
               .order_by(KnowledgeEntry.id))
    opened = 0
    for batch in _batches(ids, ctx.batch_size):
        with ctx.uow_factory() as uow:
            calendar = tasks.load_calendar(uow.session)
            opened += sum(_open_verification_one(uow.session, entry_id, now, cycle, calendar, ctx.settings)
                          for entry_id in batch)
            uow.commit()
    return {"opened": opened}


# --- expiry ahead -----------------------------------------------------------------------------------------------


def _expiring(today: date, last_day: date) -> tuple[ColumnElement[bool], ...]:
    """Published entries whose version in force expires between today and `last_day`, with no task for that date yet."""
    has_task = select(CorrectionTask.id).where(CorrectionTask.entry_id == KnowledgeEntry.id,
                                               CorrectionTask.source == TaskSource.EXPIRY.value,
                                               CorrectionTask.cycle_ends_on == KnowledgeVersion.expires_on)
    return (KnowledgeEntry.status == EntryStatus.PUBLISHED.value, KnowledgeVersion.expires_on.is_not(None),
            KnowledgeVersion.expires_on >= today, KnowledgeVersion.expires_on <= last_day, ~has_task.exists())


def _open_expiry_one(session: Session, entry_id: int, now: datetime, today: date, last_day: date,
                     calendar: WorkingCalendar, settings: CorrectionSettings) -> bool:
    entry = session.scalar(_published_join(select(KnowledgeEntry))
                           .where(KnowledgeEntry.id == entry_id, *_expiring(today, last_day))
                           .with_for_update(of=KnowledgeEntry))
    if entry is None:
        return False
    expires_on = entry.published_version.expires_on
    tasks.open_task(session, unit_id=entry.unit_id, entry_id=entry.id, source=TaskSource.EXPIRY,
                    reason="知识即将到期", received_at=now, now=now, calendar=calendar, settings=settings,
                    cycle=(None, expires_on),
                    detail=f"该知识有效期至 {expires_on.isoformat()}，到期后话务员将查不到。仍然适用的请提交修改"
                           "延长有效期，已有新规定的请提交修改替换内容；确已失效的请申请删除")
    return True


def expiry_notice_window(calendar: WorkingCalendar, now: datetime, working_days: int) -> tuple[date, date]:
    """(today, last expiry date to warn of): entries expiring within `working_days` working days of today."""
    today = to_shanghai(now).date()
    # The day before the (N+1)-th working day: an expiry on a weekend after the N-th still has N working days.
    last_day = calendar.add_working_days(now, working_days + 1).due_at.date() - timedelta(days=1)
    return today, last_day


def open_expiry_tasks(ctx: JobContext) -> dict:
    """Open one task per entry whose expiry date is near (`expiry` working days ahead, KB_DEADLINE_RULES),
    so its unit extends or replaces it before it vanishes; a rerun finds the task and opens nothing."""
    now = ctx.clock()
    with ctx.uow_factory() as uow:
        calendar = tasks.load_calendar(uow.session)
    today, last_day = expiry_notice_window(calendar, now, ctx.settings.rules.working_days[TaskSource.EXPIRY])
    ids = _ids(ctx, _published_join(select(KnowledgeEntry.id)).where(*_expiring(today, last_day))
               .order_by(KnowledgeEntry.id))
    opened = 0
    for batch in _batches(ids, ctx.batch_size):
        with ctx.uow_factory() as uow:
            calendar = tasks.load_calendar(uow.session)
            opened += sum(_open_expiry_one(uow.session, entry_id, now, today, last_day, calendar, ctx.settings)
                          for entry_id in batch)
            uow.commit()
    return {"opened": opened}


# --- scheduled versions take effect -------------------------------------------------------------------------


def _scheduled_join(query: Select[Any]) -> Select[Any]:
    return query.join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                      & (KnowledgeVersion.number == KnowledgeEntry.scheduled_number))


def _due_to_switch(today: date) -> tuple[ColumnElement[bool], ...]:
    return (KnowledgeEntry.status == EntryStatus.PUBLISHED.value, KnowledgeEntry.scheduled_number.is_not(None),
            KnowledgeVersion.effective_on <= today)


def _switch_one(session: Session, entry_id: int, now: datetime, today: date) -> bool:
    entry = session.scalar(_scheduled_join(select(KnowledgeEntry))
                           .where(KnowledgeEntry.id == entry_id, *_due_to_switch(today))
                           .with_for_update(of=KnowledgeEntry))
    if entry is None:
        return False
    before = {"version": entry.published_number, "scheduled_version": entry.scheduled_number}
    entry.published_number, entry.scheduled_number, entry.published_at = entry.scheduled_number, None, now
    session.flush()
    session.expire(entry, ["published_version"])
    audit.record(session, None, "knowledge.scheduled_version_in_effect", "knowledge_entry", entry.id, before,
                 {"version": entry.published_number, "switched_at": now}, now)
    outbox.enqueue(session, entry.id, now)
    return True


def switch_scheduled_versions(ctx: JobContext) -> dict:
    """Published modifications whose date of effect has come (Asia/Shanghai) replace the live version.

    The scheduler runs it at 00:00:00 Asia/Shanghai (and every few minutes as a catch-up), so the switch
    happens at the day boundary; a run after downtime switches everything that fell due meanwhile, and a
    rerun finds nothing left to switch. Each run is recorded in job_runs.
    """
    now = ctx.clock()
    today = to_shanghai(now).date()
    ids = _ids(ctx, _scheduled_join(select(KnowledgeEntry.id)).where(*_due_to_switch(today))
               .order_by(KnowledgeEntry.id))
    return {"switched": _in_batches(ctx, ids, _switch_one, now, today=today)}


# --- withdraw expired notices ------------------------------------------------------------------------------------


def _notice_category_ids(session: Session) -> set[int]:
    """Categories flagged as notices, and every category below one."""
    rows = session.execute(select(Category.id, Category.parent_id, Category.is_notice)).all()
    parents = {cid: parent for cid, parent, _ in rows}
    flagged = {cid for cid, _, notice in rows if notice}
    return {cid for cid in parents if flagged & set(ancestry(parents, cid))}


def _expired_notice(today: date, notice_ids: set[int]) -> tuple[ColumnElement[bool], ...]:
    return (KnowledgeEntry.status == EntryStatus.PUBLISHED.value, KnowledgeVersion.category_id.in_(notice_ids),
            KnowledgeVersion.expires_on < today)


def _published_join(query: Select[Any]) -> Select[Any]:
    return query.join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                      & (KnowledgeVersion.number == KnowledgeEntry.published_number))


def _withdraw_one(session: Session, entry_id: int, now: datetime, today: date, notice_ids: set[int]) -> bool:
    entry = session.scalar(_published_join(select(KnowledgeEntry))
                           .where(KnowledgeEntry.id == entry_id, *_expired_notice(today, notice_ids))
                           .with_for_update(of=KnowledgeEntry))
    if entry is None:
        return False
    expires_on = entry.published_version.expires_on
    entry.status = EntryStatus.WITHDRAWN.value
    entry.withdrawn_at = now
    session.flush()
    audit.record(session, None, "knowledge.withdraw_expired", "knowledge_entry", entry.id,
                 {"status": EntryStatus.PUBLISHED.value},
                 {"status": EntryStatus.WITHDRAWN.value, "withdrawn_at": now, "expires_on": expires_on}, now)
    outbox.enqueue(session, entry.id, now)
    events.record(session, events.EntryWithdrawn(entry_id=entry.id, at=now))
    reactions.dispatch(session)  # its open tasks are resolved with it
    return True


def withdraw_expired_notices(ctx: JobContext) -> dict:
    """Notices (通知公告) whose published version expired before today leave the knowledge base;
    their open tasks are resolved with them."""
    now = ctx.clock()
    today = to_shanghai(now).date()
    with ctx.uow_factory() as uow:
        notice_ids = _notice_category_ids(uow.session)
    if not notice_ids:
        return {"withdrawn": 0}
    ids = _ids(ctx, _published_join(select(KnowledgeEntry.id)).where(*_expired_notice(today, notice_ids))
               .order_by(KnowledgeEntry.id))
    return {"withdrawn": _in_batches(ctx, ids, _withdraw_one, now, today=today, notice_ids=notice_ids)}


# --- recompute provisional deadlines ---------------------------------------------------------------------------


def recompute_provisional_deadlines(ctx: JobContext) -> dict:
    """Recount provisional deadlines: the calendar may have learned their days (new library data, overrides)."""
    now = ctx.clock()
    with ctx.uow_factory() as uow:
        changed = tasks.recompute_deadlines(uow.session, tasks.load_calendar(uow.session), ctx.settings, now,
                                            only_provisional=True)
        uow.commit()
    return {"recomputed": len(changed)}


# --- purge the search log --------------------------------------------------------------------------------------


def purge_search_log(ctx: JobContext, *, retention_days: int) -> dict:
    """Delete search-log rows older than `retention_days` (KB_SEARCH_LOG_RETENTION_DAYS), a batch per transaction.

    Operators' queries are masked when logged (kb.search.redaction), but what
    cannot be masked reliably (a name, a street address typed by an operator)
    is kept only this long. 0 keeps the log forever.
    """
    if retention_days <= 0:
        return {"purged": 0, "retention_days": retention_days}
    cutoff = ctx.clock() - timedelta(days=retention_days)
    purged = 0
    while True:
        with ctx.uow_factory() as uow:
            ids = list(uow.session.scalars(select(SearchLog.id).where(SearchLog.searched_at < cutoff)
                                           .order_by(SearchLog.id).limit(ctx.batch_size * 10)))
            if not ids:
                break
            uow.session.execute(delete(SearchLog).where(SearchLog.id.in_(ids)))
            uow.commit()
        purged += len(ids)
    return {"purged": purged, "retention_days": retention_days}


JOBS: dict[str, Callable[[JobContext], dict]] = {
    "mark_overdue": mark_overdue,
    "remind_due_soon": remind_due_soon,
    "open_verification_tasks": open_verification_tasks,
    "open_expiry_tasks": open_expiry_tasks,
    "switch_scheduled_versions": switch_scheduled_versions,
    "withdraw_expired_notices": withdraw_expired_notices,
    "recompute_provisional_deadlines": recompute_provisional_deadlines,
}


# --- runs --------------------------------------------------------------------------------------------------------


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRunSnapshot:
    """One recorded run of a job: `running`, then `ok` with the job's counts or `failed` with the error."""

    id: int
    job: str
    trigger: str  # scheduler | command
    holder: str  # host:pid that ran it
    started_at: datetime
    finished_at: datetime | None
    outcome: str  # running | ok | failed
    counts: dict[str, Any]  # what the run did, e.g. {"opened": 3}; stored as JSON
    error: str | None

    @classmethod
    def of(cls, run: JobRun) -> JobRunSnapshot:
        return cls(id=run.id, job=run.job, trigger=run.trigger, holder=run.holder, started_at=run.started_at,
                   finished_at=run.finished_at, outcome=run.outcome, counts=dict(run.counts or {}), error=run.error)


def run_job(name: str, ctx: JobContext, *, trigger: str = "command", holder: str | None = None,
            registry: Mapping[str, Callable[[JobContext], dict]] | None = None) -> JobRunSnapshot:
    """Run one job and record the run: `running` first, then `ok` with its counts or `failed` with the error.

    A failure is recorded and raised again. `registry` (default: JOBS) lets an
    outer layer add jobs kb cannot import (service.jobs adds deliver_webhooks).
    """
    job = (JOBS if registry is None else registry)[name]
    with ctx.uow_factory() as uow:
        run = JobRun(job=name, trigger=trigger, holder=holder or this_process(), started_at=ctx.clock(),
                     outcome="running", counts={})
        uow.session.add(run)
        uow.session.flush()
        run_id = run.id
        uow.commit()
    try:
        counts = job(ctx)
    except Exception as exc:
        _finish(ctx, run_id, "failed", {}, f"{type(exc).__name__}: {exc}"[:2000])
        raise
    return _finish(ctx, run_id, "ok", counts, None)


def _finish(ctx: JobContext, run_id: int, outcome: str, counts: dict, error: str | None) -> JobRunSnapshot:
    with ctx.uow_factory() as uow:
        run = uow.session.get_one(JobRun, run_id)
        run.outcome, run.finished_at, run.counts, run.error = outcome, ctx.clock(), counts, error
        uow.session.flush()
        snapshot = JobRunSnapshot.of(run)
        uow.commit()
        return snapshot


def mark_interrupted(ctx: JobContext, holder: str) -> int:
    """A new scheduler took over: runs another scheduler left `running` died with it."""
    with ctx.uow_factory() as uow:
        result = uow.session.execute(
            update(JobRun).where(JobRun.outcome == "running", JobRun.trigger == "scheduler",
                                 JobRun.holder != holder)
            .values(outcome="failed", finished_at=ctx.clock(), error="interrupted: the process running it ended"))
        uow.commit()
        return result.rowcount or 0


def recent_runs(uow: UnitOfWork, *, job: str | None = None, limit: int = 20) -> list[JobRunSnapshot]:
    """The latest runs, newest first (of one job if `job` is given)."""
    with uow:
        query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
        if job:
            query = query.where(JobRun.job == job)
        return [JobRunSnapshot.of(r) for r in uow.session.scalars(query)]


# --- one scheduler at a time -------------------------------------------------------------------------------------


class AdvisoryLease:
    """PostgreSQL: a session advisory lock on a connection of its own, held while the scheduler runs.

    The lock goes with the connection, so a scheduler that dies (or loses its
    connection) frees it at once for a standby.
    """

    KEY = 0x6B62_0002  # arbitrary, constant: "the scheduler"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def acquire(self) -> bool:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                return True
            except DBAPIError:
                log.warning("scheduler lease connection lost; trying to take the lease again")
                self._drop()
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.KEY})
        except DBAPIError:
            conn.invalidate()
            conn.close()
            raise
        if got:
            self._conn = conn
            return True
        conn.close()
        return False

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.KEY})
            self._conn.close()
        except DBAPIError:
            self._drop()
        self._conn = None

    def _drop(self) -> None:
        try:
            self._conn.invalidate()  # never hand a connection that may hold the lock back to the pool
            self._conn.close()
        finally:
            self._conn = None


class RowLease:
    """A lease row with an expiry (SQLite, or any database): the holder renews it; others wait for it to lapse."""

    NAME = "scheduler"

    def __init__(self, uow_factory: UowFactory, holder: str, ttl: timedelta,
                 clock: Callable[[], datetime]) -> None:
        self._uow_factory, self.holder, self._ttl, self._clock = uow_factory, holder, ttl, clock
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def acquire(self) -> bool:
        now = self._clock()
        try:
            with self._uow_factory() as uow:
                s = uow.session
                row = s.get(SchedulerLease, self.NAME, with_for_update=True)
                if row is None:
                    s.add(SchedulerLease(name=self.NAME, holder=self.holder, acquired_at=now,
                                         expires_at=now + self._ttl))
                elif row.holder == self.holder or row.expires_at <= now:
                    if row.holder != self.holder:
                        row.holder, row.acquired_at = self.holder, now
                    row.expires_at = now + self._ttl
                else:
                    self._held = False
                    return False
                s.flush()
                uow.commit()
        except IntegrityError:  # another process inserted the row first
            self._held = False
            return False
        self._held = True
        return True

    def release(self) -> None:
        if not self._held:
            return
        with self._uow_factory() as uow:
            row = uow.session.get(SchedulerLease, self.NAME, with_for_update=True)
            if row is not None and row.holder == self.holder:
                uow.session.delete(row)
            uow.commit()
        self._held = False


def lease_for(engine: Engine, uow_factory: UowFactory, *, holder: str | None = None,
              ttl: timedelta = timedelta(seconds=90),
              clock: Callable[[], datetime] | None = None) -> AdvisoryLease | RowLease:
    """An advisory lock on PostgreSQL, a lease row elsewhere."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLease(engine)
    from datetime import timezone

    return RowLease(uow_factory, holder or f"{this_process()}:{uuid.uuid4().hex[:6]}", ttl,
                    clock or (lambda: datetime.now(timezone.utc)))
