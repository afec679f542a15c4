"""Per-unit compliance counts, read from the database as of the end of a period.

Every count follows the definitions in :mod:`kb.compliance.records`. What
makes the numbers the same next month as today is that they are read from
facts recorded when they happened, never from current state:

* knowledge work from published change requests (``published_at``) and the
  verification history (``knowledge_verifications``);
* "published at the period end" from each entry's versions and withdrawal
  time, so a later modification or withdrawal does not change a past month;
* tasks from their receipt, resolution and decline times: a task open and
  overdue at the period end counts so for that period, even when it is
  resolved the next day;
* usage from the usage log, judged wrong by the office's decisions on flags
  taken by the period end.

``as_of`` is the period end (23:59:59 in Asia/Shanghai) or ``now`` when the
period has not ended yet. Read-only: nothing is flushed or committed.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, func, or_, select, true

from kb.calendar import SHANGHAI, Deadline, WorkingCalendar, to_shanghai
from kb.compliance.records import TASK_SOURCES, Period, TaskTally, UnitCompliance
from kb.deadlines import DEFAULT_RULES, DeadlineRules, TaskSource
from kb.errors import NotFound
from kb.models import (
    Category, ChangeKind, ChangeRequest, CorrectionTask, EntryFormat, FlagCause, FlagKind, FlagState, KnowledgeEntry,
    KnowledgeFlag, KnowledgeUsage, KnowledgeVerification, KnowledgeVersion, PolicyDocument, Review, Role, Unit,
    User)
from kb.services.calendar_store import load_calendar
from kb.services.categories import ancestry
from kb.services.tasks import DEFAULT_SETTINGS, deadline_of
from kb.workflow import State

__all__ = ["UNCATEGORISED", "as_of_for", "compliance_for", "deadline_rules", "unit_compliance"]

#: Key of ``uploads_by_category`` for an entry whose category is gone.
UNCATEGORISED = "未分类"

# Change kinds that count as the unit's knowledge work (a suggestion publishes nothing).
_WORK_KINDS = (ChangeKind.NEW.value, ChangeKind.MODIFY.value, ChangeKind.DELETE.value, ChangeKind.REVOKE.value)


def deadline_rules(deadlines: Mapping[str, int] | None) -> DeadlineRules:
    """The default deadline rules with a profile's ``task_deadlines`` (working days per source) on top."""
    return DeadlineRules.from_mapping(dict(deadlines)) if deadlines else DEFAULT_RULES


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


#: UTC+8, the offset Asia/Shanghai has kept since 1901; before that the zone database gives the
#: local mean time of Shanghai (+08:05:43), which no reader of a report means.
_CHINA_STANDARD_TIME = timezone(timedelta(hours=8))


def _end_of(day: date) -> datetime:
    end = datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)
    if end.utcoffset().seconds % 60:  # a historical local-mean-time offset
        end = end.replace(tzinfo=_CHINA_STANDARD_TIME)
    return end


def as_of_for(period: Period, now: datetime) -> datetime:
    """The moment a period's counts are taken: its last second, or now while it is still running."""
    return min(_end_of(period.end), to_shanghai(now))


def unit_compliance(uow, period: Period, *, now: datetime, unit_codes: Iterable[str] | None = None,
                    deadlines: Mapping[str, int] | None = None) -> list[UnitCompliance]:
    """The use case: one record per unit (all units when ``unit_codes`` is None), ordered by unit code.

    ``deadlines`` are a scoring profile's ``task_deadlines``; lateness is judged by them.
    """
    with uow:
        return compliance_for(uow.session, period, now=now, unit_codes=unit_codes, rules=deadline_rules(deadlines))


def compliance_for(session, period: Period, *, now: datetime, unit_codes: Iterable[str] | None = None,
                   rules: DeadlineRules = DEFAULT_RULES, as_of: datetime | None = None,
                   calendar: WorkingCalendar | None = None) -> list[UnitCompliance]:
    """The counts of ``period`` for the given units, as of ``as_of`` (default: :func:`as_of_for`)."""
    as_of = to_shanghai(as_of) if as_of is not None else as_of_for(period, now)
    units = _units(session, unit_codes)
    if not units:
        return []
    reader = _Reader(session, period, as_of, [u.id for u in units], rules,
                     calendar if calendar is not None else load_calendar(session), every_unit=unit_codes is None)
    per_unit = reader.read()
    # A unit exists from its creation, or from its first recorded knowledge work when that is earlier
    # (a directory loaded after the knowledge base was).
    first_work = dict(session.execute(
        select(ChangeRequest.unit_id, func.min(ChangeRequest.created_at))
        .where(ChangeRequest.unit_id.in_([u.id for u in units])).group_by(ChangeRequest.unit_id)).all())
    for unit in units:
        since = unit.created_at if unit.id not in first_work else min(unit.created_at, first_work[unit.id])
        per_unit[unit.id].exists_since = to_shanghai(since).date()
    return [per_unit[u.id].record(u, period, as_of, rules) for u in units]


def _units(session, unit_codes: Iterable[str] | None) -> list[Unit]:
    query = select(Unit).order_by(Unit.code)
    if unit_codes is None:
        return list(session.scalars(query))
    codes = sorted(set(unit_codes))
    units = list(session.scalars(query.where(Unit.code.in_(codes))))
    missing = sorted(set(codes) - {u.code for u in units})
    if missing:
        raise NotFound(f"单位 {'、'.join(missing)} 不存在", code="unit_not_found", details={"unit": missing})
    return units


@dataclass
class _Counts:
    """The counts of one unit while they are gathered."""

    uploads: dict[str, int] = field(default_factory=lambda: {EntryFormat.QA.value: 0, EntryFormat.DOCUMENT.value: 0})
    uploads_by_category: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    upload_entry_ids: list[int] = field(default_factory=list)
    published_work: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    verifications: int = 0
    active_months: set[str] = field(default_factory=set)   # a published change or a verification
    changed_months: set[str] = field(default_factory=set)  # a published change
    published_entries: int = 0
    covered_entries: int = 0
    uncovered_entry_ids: list[int] = field(default_factory=list)
    # source -> outcome ("received", "on_time", "late", "overdue", "declined") -> task ids
    tasks: dict[str, dict[str, list[int]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    suggestions_received: int = 0
    suggestions_acted_in_time: int = 0
    suggestion_ids_not_acted: list[int] = field(default_factory=list)
    suggestions_not_acted: int = 0
    usages: int = 0
    usages_confirmed_wrong: int = 0
    late_policy_flag_ids: list[int] = field(default_factory=list)
    unit_suggestions: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    exists_since: date | None = None

    def record(self, unit: Unit, period: Period, as_of: datetime, rules: DeadlineRules) -> UnitCompliance:
        months = judged_months(period, as_of, self.exists_since)
        tallies = {}
        for source in TASK_SOURCES:
            t = self.tasks.get(source, {})
            tallies[source] = TaskTally(
                received=len(t.get("received", ())), resolved_on_time=len(t.get("on_time", ())),
                resolved_late=len(t.get("late", ())), open_overdue=len(t.get("overdue", ())),
                declined=len(t.get("declined", ())), late_task_ids=t.get("late", ()),
                overdue_task_ids=t.get("overdue", ()),
                office_late=len(t.get("office_late", ())), office_late_task_ids=t.get("office_late", ()),
                due_working_days=None if source == TaskSource.EMERGENCY.value
                else rules.working_days[TaskSource(source)])
        return UnitCompliance(
            unit_code=unit.code, unit_name=unit.name, period=period,
            uploads_qa=self.uploads[EntryFormat.QA.value], uploads_document=self.uploads[EntryFormat.DOCUMENT.value],
            uploads_by_category=dict(self.uploads_by_category), upload_entry_ids=self.upload_entry_ids,
            modifications=self.published_work[ChangeKind.MODIFY.value],
            deletions=self.published_work[ChangeKind.DELETE.value],
            revocations=self.published_work[ChangeKind.REVOKE.value],
            verifications=self.verifications,
            published_entries=self.published_entries, covered_entries=self.covered_entries,
            uncovered_entry_ids=self.uncovered_entry_ids, tasks_by_source=tallies,
            suggestions_received=self.suggestions_received,
            suggestions_acted_in_time=self.suggestions_acted_in_time,
            suggestions_not_acted=self.suggestions_not_acted,
            suggestion_ids_not_acted=self.suggestion_ids_not_acted,
            usages=self.usages, usages_confirmed_wrong=self.usages_confirmed_wrong,
            months_without_update=tuple(m for m in months if m not in self.active_months),
            months_without_change=tuple(m for m in months if m not in self.changed_months),
            wrong_answers_late_policy=len(self.late_policy_flag_ids), late_policy_flag_ids=self.late_policy_flag_ids,
            unit_suggestions_accepted=self.unit_suggestions["accepted"],
            unit_suggestions_declined=self.unit_suggestions["declined"],
            as_of=as_of,
        )


def judged_months(period: Period, as_of: datetime, unit_created_on: date | None = None) -> list[str]:
    """The months of ``period`` a unit can have missed by ``as_of``.

    A month is judged once it has ended (a month still running is not missed
    yet, nor one not begun) and only if the unit existed before it ended.
    """
    out = []
    for month in period.months():
        first = date.fromisoformat(month + "-01")
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if _end_of(last) > as_of:
            continue
        if unit_created_on is not None and last < unit_created_on:
            continue
        out.append(month)
    return out


class _Reader:
    """Reads the counts of a set of units in a few grouped queries, then sorts them by unit."""

    def __init__(self, session, period: Period, as_of: datetime, unit_ids: list[int], rules: DeadlineRules,
                 calendar: WorkingCalendar, *, every_unit: bool = False):
        self.s = session
        self.every_unit = every_unit
        self.period = period
        self.as_of = as_of
        self.start_at = _start_of(period.start)
        self.window_start_at = _start_of(period.coverage_window().start)
        self.unit_ids = unit_ids
        self.rules = rules
        self.calendar = calendar
        self.counts: dict[int, _Counts] = defaultdict(_Counts)
        self.counts_for = set(unit_ids)

    def _of_units(self, column):
        """Rows of the units asked for; no condition when that is every unit (a plain scan beats an IN of 500)."""
        return true() if self.every_unit else column.in_(self.unit_ids)

    def read(self) -> dict[int, _Counts]:
        self._published_work()
        self._verifications()
        self._coverage()
        self._tasks()
        self._usage()
        self._unit_suggestions()
        return self.counts

    def _in_period(self, column):
        return and_(column >= self.start_at, column <= self.as_of)

    # -- knowledge work -----------------------------------------------------------------------------

    def _category_roots(self) -> dict[int, str]:
        rows = self.s.execute(select(Category.id, Category.parent_id, Category.name)).all()
        parents = {cid: parent for cid, parent, _ in rows}
        names = {cid: name for cid, _, name in rows}
        return {cid: names[ancestry(parents, cid)[0]] for cid in names}

    def _published_work(self) -> None:
        roots = self._category_roots()
        rows = self.s.execute(
            select(ChangeRequest.unit_id, ChangeRequest.kind, ChangeRequest.published_at, ChangeRequest.entry_id,
                   KnowledgeVersion.format, KnowledgeVersion.category_id)
            .outerjoin(KnowledgeVersion, KnowledgeVersion.change_request_id == ChangeRequest.id)
            .where(self._of_units(ChangeRequest.unit_id), ChangeRequest.kind.in_(_WORK_KINDS),
                   ChangeRequest.published_at.is_not(None), self._in_period(ChangeRequest.published_at)))
        for unit_id, kind, published_at, entry_id, entry_format, category_id in rows:
            c = self.counts[unit_id]
            c.active_months.add(to_shanghai(published_at).strftime("%Y-%m"))
            c.changed_months.add(to_shanghai(published_at).strftime("%Y-%m"))
            if kind == ChangeKind.NEW.value:
                c.uploads[entry_format or EntryFormat.QA.value] += 1
                c.uploads_by_category[roots.get(category_id, UNCATEGORISED)] += 1
                c.upload_entry_ids.append(entry_id)
            else:
                c.published_work[kind] += 1

    def _verifications(self) -> None:
        rows = self.s.execute(
            select(KnowledgeVerification.unit_id, KnowledgeVerification.verified_at)
            .where(self._of_units(KnowledgeVerification.unit_id),
                   self._in_period(KnowledgeVerification.verified_at)))
        for unit_id, verified_at in rows:
            c = self.counts[unit_id]
            c.verifications += 1
            c.active_months.add(to_shanghai(verified_at).strftime("%Y-%m"))

    def _coverage(self) -> None:
        """Entries published at ``as_of`` and in effect then; of them, those updated or verified in the year."""
        entries: dict[int, int] = {}  # entry → its unit, for entries published at as_of and not withdrawn then
        in_force: dict[int, tuple[int, bool]] = {}
        touched: set[int] = set()
        today = self.as_of.date()
        # One pass over the versions, the comparisons made by the database: turning 200,000 dates and times
        # into Python objects to compare them here took most of a 500-unit month's count.
        for entry_id, unit_id, number, waiting, expired, recent in self.s.execute(
                select(KnowledgeVersion.entry_id, KnowledgeEntry.unit_id, KnowledgeVersion.number,
                       # a modification not in effect yet: the older one is live
                       and_(KnowledgeVersion.number > 1, KnowledgeVersion.effective_on > today),
                       and_(KnowledgeVersion.expires_on.is_not(None), KnowledgeVersion.expires_on < today),
                       KnowledgeVersion.created_at >= self.window_start_at)
                .join(KnowledgeEntry, KnowledgeEntry.id == KnowledgeVersion.entry_id)
                .where(self._of_units(KnowledgeEntry.unit_id), KnowledgeVersion.created_at <= self.as_of,
                       KnowledgeEntry.created_at <= self.as_of,
                       or_(KnowledgeEntry.withdrawn_at.is_(None), KnowledgeEntry.withdrawn_at > self.as_of))):
            entries[entry_id] = unit_id
            if not waiting and (entry_id not in in_force or number > in_force[entry_id][0]):
                in_force[entry_id] = (number, bool(expired))
            if recent:
                touched.add(entry_id)
        if not entries:
            return
        touched.update(self.s.scalars(
            select(KnowledgeVerification.entry_id)
            .where(self._of_units(KnowledgeVerification.unit_id),
                   KnowledgeVerification.verified_at >= self.window_start_at,
                   KnowledgeVerification.verified_at <= self.as_of)))
        for entry_id in sorted(in_force):
            if in_force[entry_id][1]:
                continue  # expired: operators no longer saw it, nothing to keep up to date
            c = self.counts[entries[entry_id]]
            c.published_entries += 1
            if entry_id in touched:
                c.covered_entries += 1
            else:
                c.uncovered_entry_ids.append(entry_id)

    # -- tasks and suggestions ----------------------------------------------------------------------

    def _due(self, task: CorrectionTask, policy_dates: Mapping[int, tuple[date | None, date]]) -> datetime:
        """The task's deadline under the rules asked for."""
        source = TaskSource(task.source)
        if source is TaskSource.EMERGENCY or task.working_days == self.rules.working_days[source]:
            return task.due_at  # the deadline the unit was given (kept in step with the calendar)
        # A profile that names another deadline than the one the task was opened with: recount it the same way.
        effective_on, published_on = policy_dates.get(task.policy_document_id, (None, None)) \
            if source is TaskSource.POLICY_CHANGE else (None, None)
        deadline = deadline_of(
            self.calendar, DEFAULT_SETTINGS, source, task.received_at, working_days=self.rules.working_days[source],
            policy_effective_on=effective_on, policy_published_on=published_on, cycle_ends_on=task.cycle_ends_on)
        return deadline.due_at

    def _tasks(self) -> None:
        tasks = list(self.s.scalars(
            select(CorrectionTask)
            .where(self._of_units(CorrectionTask.unit_id), CorrectionTask.received_at <= self.as_of,
                   or_(CorrectionTask.resolved_at.is_(None), CorrectionTask.resolved_at >= self.start_at),
                   or_(CorrectionTask.declined_at.is_(None), CorrectionTask.declined_at >= self.start_at))
            .order_by(CorrectionTask.id)))
        if not tasks:
            return
        policy_dates = {doc_id: (effective_on, published_on) for doc_id, effective_on, published_on in self.s.execute(
            select(PolicyDocument.id, PolicyDocument.effective_on, PolicyDocument.published_on))}
        flag_of_task = dict(self.s.execute(
            select(KnowledgeFlag.task_id, KnowledgeFlag.id)
            .where(KnowledgeFlag.task_id.in_([t.id for t in tasks]))).all())
        reported = self._reported_to_office([
            t.change_request_id for t in tasks
            if t.change_request_id is not None and (t.resolved_at is None or t.resolved_at > self.as_of)])
        for task in tasks:
            c = self.counts[task.unit_id]
            due_at = self._due(task, policy_dates)
            deadline = Deadline(due_at, False)
            tally = c.tasks[task.source]
            received = task.received_at >= self.start_at
            resolved = task.resolved_at is not None and task.resolved_at <= self.as_of
            declined = task.declined_at is not None and task.declined_at <= self.as_of
            # A missed task counts once, in the period its deadline passed.
            missed_here = due_at >= self.start_at
            outcome = None
            if received:
                tally["received"].append(task.id)
            if resolved:
                unit_done_at = task.unit_done_at or task.resolved_at
                on_time = task.on_time if due_at == task.due_at else deadline.is_met_by(unit_done_at)
                if on_time:
                    outcome = "on_time"
                    if missed_here and not deadline.is_met_by(task.resolved_at):
                        tally["office_late"].append(task.id)
                elif missed_here:
                    outcome = "late"
            elif declined:
                outcome = "declined"
            elif not deadline.is_met_by(self.as_of):
                sent = reported.get(task.change_request_id)
                if sent is not None and deadline.is_met_by(sent):
                    if missed_here:  # the unit reported in time; the office has not published
                        tally["office_late"].append(task.id)
                elif missed_here:
                    outcome = "overdue"
            if outcome is not None:
                tally[outcome].append(task.id)
            flag_id = flag_of_task.get(task.id)
            if flag_id is not None:
                c.suggestions_received += received
                if outcome in ("on_time", "declined"):
                    c.suggestions_acted_in_time += 1
                elif outcome in ("late", "overdue"):
                    c.suggestions_not_acted += 1
                    c.suggestion_ids_not_acted.append(flag_id)

    def _reported_to_office(self, cr_ids: list[int]) -> dict[int, datetime]:
        """Change requests waiting for the office at ``as_of``: when the unit's reviewer sent each one.

        Read from the reviews: the last review by ``as_of`` is the unit's approval (and the change was
        not withdrawn since).
        """
        if not cr_ids:
            return {}
        last: dict[int, tuple[str, str, datetime]] = {}
        for cr_id, stage, decision, decided_at in self.s.execute(
                select(Review.change_request_id, Review.stage, Review.decision, Review.decided_at)
                .join(ChangeRequest, ChangeRequest.id == Review.change_request_id)
                .where(Review.change_request_id.in_(set(cr_ids)), Review.decided_at <= self.as_of,
                       ChangeRequest.state != State.CANCELLED.value)
                .order_by(Review.id)):
            last[cr_id] = (stage, decision, decided_at)
        return {cr_id: at for cr_id, (stage, decision, at) in last.items() if stage == "unit" and decision == "approve"}

    def _unit_suggestions(self) -> None:
        """The unit's own suggestions (made by its people) the office decided on in the period."""
        for unit_id, decision in self.s.execute(
                select(ChangeRequest.unit_id, Review.decision)
                .join(Review, Review.change_request_id == ChangeRequest.id)
                .join(User, User.id == ChangeRequest.created_by_id)
                .where(self._of_units(ChangeRequest.unit_id), ChangeRequest.kind == ChangeKind.SUGGESTION.value,
                       User.role.in_((Role.MAINTAINER.value, Role.UNIT_REVIEWER.value)), Review.stage == "office",
                       Review.decision.in_(("accept", "publish", "decline")), self._in_period(Review.decided_at))):
            self.counts[unit_id].unit_suggestions["declined" if decision == "decline" else "accepted"] += 1

    # -- usage --------------------------------------------------------------------------------------

    def _usage(self) -> None:
        wrong: set[tuple[int, int]] = set()
        for flag_id, entry_id, version, cause, triaged_at, unit_id, declined_at in self.s.execute(
                select(KnowledgeFlag.id, KnowledgeFlag.entry_id, KnowledgeFlag.entry_version, KnowledgeFlag.cause,
                       KnowledgeFlag.triaged_at, KnowledgeEntry.unit_id, CorrectionTask.declined_at)
                .join(KnowledgeEntry, KnowledgeEntry.id == KnowledgeFlag.entry_id)
                .outerjoin(CorrectionTask, CorrectionTask.id == KnowledgeFlag.task_id)
                .where(KnowledgeFlag.kind == FlagKind.WRONG_ANSWER.value, KnowledgeFlag.state == FlagState.ACCEPTED.value,
                       KnowledgeFlag.triaged_at <= self.as_of)):
            if declined_at is not None and declined_at <= self.as_of:
                continue  # the office agreed with the unit that the answer was right
            wrong.add((entry_id, version))
            if cause == FlagCause.LATE_POLICY.value and triaged_at >= self.start_at and unit_id in self.counts_for:
                self.counts[unit_id].late_policy_flag_ids.append(flag_id)
        for unit_id, entry_id, version in self.s.execute(
                select(KnowledgeUsage.unit_id, KnowledgeUsage.entry_id, KnowledgeUsage.version)
                .where(self._of_units(KnowledgeUsage.unit_id), self._in_period(KnowledgeUsage.used_at))):
            c = self.counts[unit_id]
            c.usages += 1
            c.usages_confirmed_wrong += (entry_id, version) in wrong
