"""Per-unit compliance counts as frozen records: what scoring reads.

``scoring_hooks`` turns these records into points with each jurisdiction's
rules; it never sees ORM objects. Everything here is plain data: the records
validate their own invariants on construction so that a query bug fails
loudly instead of producing a wrong score.

Definitions shared by every count (the query below must follow them):

* A *period* is a closed date range in Asia/Shanghai local dates
  (:class:`Period`); an event belongs to the period when its local date falls
  inside ``[start, end]``.
* *As of*: counts that depend on "now" (open overdue tasks, suggestions not
  acted on) are taken at ``as_of``, which is the period end (23:59:59 local)
  unless the caller asks for an earlier moment.
* The *year* for coverage is the 12 months ending at the period end
  (:meth:`Period.coverage_window`), whatever the period's own length.
* Task deadlines are counted in working days on the official calendar
  (``kb.deadlines``); each :class:`TaskTally` says which deadline it used.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from kb.deadlines import TASK_SOURCE_TITLES, TaskSource

__all__ = [
    "TASK_SOURCES",
    "TASK_SOURCE_TITLES",
    "Period",
    "TaskTally",
    "UnitCompliance",
]

#: Where a correction/update task comes from (``kb.deadlines.TaskSource`` values):
#: office_feedback 热线办反馈 (Licheng Art. 13), operator_suggestion 话务员建议
#: (Huantai 3.2), city_notice 市级热线管理中心通知更新 (Nankang), unit_self_found
#: 单位自查纠错 (Licheng Art. 10(1)), policy_change 政策变化 (Licheng Art. 10(2),
#: Huantai 3.3), emergency 突发事项 (Licheng Art. 10(3)), yearly_verification 年度校核.
#: Keys of ``UnitCompliance.tasks_by_source``, as plain strings.
TASK_SOURCES: tuple[str, ...] = tuple(source.value for source in TaskSource)



# ---------------------------------------------------------------------------
# Period
# ---------------------------------------------------------------------------

_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$", re.ASCII)
_QUARTER_RE = re.compile(r"^(\d{4})-[Qq]([1-4])$", re.ASCII)
_YEAR_RE = re.compile(r"^(\d{4})$", re.ASCII)
_RANGE_RE = re.compile(r"^(\S+)\s*\.\.\s*(\S+)$")


PERIOD_MIN_YEAR, PERIOD_MAX_YEAR = 1900, 2200  # as the calendar's dates (service.schemas.fields)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(d: date, months: int) -> date:
    """``d`` moved by whole months, the day clamped to the target month's length."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    """A closed date range with a stable label.

    ``end`` is inclusive. Labels: ``"2026-10"`` (a month), ``"2026-Q4"`` (a
    quarter), ``"2026"`` (a year), ``"2026-01-05..2026-02-01"`` (any other
    range). Build one with :meth:`parse`; it gives a range that is exactly a
    month, quarter or year the short label, so equal periods have equal labels.
    """

    start: date
    end: date
    label: str

    def __post_init__(self) -> None:
        if not isinstance(self.start, date) or not isinstance(self.end, date):
            raise TypeError("Period start and end must be dates")
        if isinstance(self.start, datetime) or isinstance(self.end, datetime):
            raise TypeError("Period start and end must be dates, not datetimes")
        if self.start > self.end:
            raise ValueError(f"period start {self.start} is after its end {self.end}")
        if self.start.year < PERIOD_MIN_YEAR or self.end.year > PERIOD_MAX_YEAR:
            # 9999-12's end of day in Shanghai is past datetime.max in UTC, 0001-01's start before datetime.min
            raise ValueError(f"period years must be from {PERIOD_MIN_YEAR} to {PERIOD_MAX_YEAR}")

    @classmethod
    def parse(
        cls,
        period: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> Period:
        """Read a period label, or a ``start``/``end`` pair (both inclusive).

        Accepts ``"2026-10"``, ``"2026-Q4"``, ``"2026"`` or
        ``"2026-01-05..2026-02-01"``. Raises :class:`ValueError` with a message
        naming the bad input.
        """
        if period is not None and (start is not None or end is not None):
            raise ValueError("give either a period label or start and end, not both")
        if period is None:
            if start is None and end is None:
                raise ValueError("a period is required: a label such as 2026-10, 2026-Q4, 2026 or start and end dates")
            if start is None or end is None:
                raise ValueError("both start and end are required for a date range")
            return cls._from_range(start, end)

        text = period.strip()
        if m := _MONTH_RE.match(text):
            year, month = int(m[1]), int(m[2])
            if not 1 <= month <= 12:
                raise ValueError(f"invalid month in period {period!r}: {month}")
            return cls(date(year, month, 1), _month_end(year, month), f"{year:04d}-{month:02d}")
        if m := _QUARTER_RE.match(text):
            year, quarter = int(m[1]), int(m[2])
            first = 3 * (quarter - 1) + 1
            return cls(date(year, first, 1), _month_end(year, first + 2), f"{year:04d}-Q{quarter}")
        if m := _YEAR_RE.match(text):
            year = int(m[1])
            if year < 1:
                raise ValueError(f"invalid year in period {period!r}")
            return cls(date(year, 1, 1), date(year, 12, 31), f"{year:04d}")
        if m := _RANGE_RE.match(text):
            try:
                first_day = date.fromisoformat(m[1])
                last_day = date.fromisoformat(m[2])
            except ValueError:
                raise ValueError(
                    f"invalid date range {period!r}: expected YYYY-MM-DD..YYYY-MM-DD"
                ) from None
            return cls._from_range(first_day, last_day)
        raise ValueError(
            f"invalid period {period!r}: expected YYYY-MM, YYYY-Qn, YYYY or YYYY-MM-DD..YYYY-MM-DD"
        )

    @classmethod
    def _from_range(cls, start: date, end: date) -> Period:
        for value, name in ((start, "start"), (end, "end")):
            if not isinstance(value, date) or isinstance(value, datetime):
                raise ValueError(f"period {name} must be a date, got {value!r}")
        if start > end:
            raise ValueError(f"period start {start} is after its end {end}")
        if start.day == 1 and end == _month_end(end.year, end.month):
            if start.year == end.year and start.month == end.month:
                return cls(start, end, f"{start.year:04d}-{start.month:02d}")
            if start.year == end.year and start.month % 3 == 1 and end.month == start.month + 2:
                return cls(start, end, f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}")
            if start.year == end.year and start.month == 1 and end.month == 12:
                return cls(start, end, f"{start.year:04d}")
        return cls(start, end, f"{start.isoformat()}..{end.isoformat()}")

    def months(self) -> list[str]:
        """``"YYYY-MM"`` of each month that has at least one day in the period."""
        out = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        if isinstance(day, datetime):
            day = day.date()
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def is_full_year(self) -> bool:
        return self.start == date(self.start.year, 1, 1) and self.end == date(self.start.year, 12, 31)

    def coverage_window(self) -> Period:
        """The 12 months ending at the period end: the "year" of coverage rules.

        For a period ending 2026-12-31 this is 2026-01-01..2026-12-31; for one
        ending 2026-02-28 it is 2025-03-01..2026-02-28.
        """
        start = _add_months(self.end + timedelta(days=1), -12)
        return Period._from_range(start, self.end)

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> Period:
        return cls(date.fromisoformat(data["start"]), date.fromisoformat(data["end"]), data["label"])

    def __str__(self) -> str:
        return self.label


# ---------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------


def _ids(values: Iterable[int], name: str) -> tuple[int, ...]:
    out = tuple(sorted(set(values)))
    for v in out:
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"{name} must hold integer ids, got {v!r}")
    return out


def _check_count(value: Any, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


@dataclass(frozen=True, kw_only=True)
class TaskTally:
    """Correction/update tasks of one source for one unit in one period.

    * ``received``: tasks whose receipt date falls in the period.
    * ``resolved_on_time`` / ``resolved_late``: of the tasks due in the
      period or resolved in it, resolved by / after their due date.
    * ``open_overdue``: still open at ``as_of`` and past their due date
      (counted once, in the period where they are open and overdue at ``as_of``).
    * ``declined``: returned as not the unit's remit (退回), not scored as late.
    * A task that goes wrong counts once, in the period its deadline passed:
      open and overdue at the end of that period, or resolved late within it;
      resolved late in a later period it is not counted again there.
    * The unit is judged by when it did its part (its report to the office
      of the fix that was then published, ``unit_done_at``), not by when the
      office published. ``office_late``: resolved in the period, reported by
      the unit in time but published after the deadline, or waiting past the
      deadline for the office with the unit's report in time at ``as_of``
      (the office's own delay; evidence ``office_late_task_ids``), counted
      once, in the period the deadline passed. Not the unit's: no profile
      deducts it.
    * ``due_working_days``: the deadline the tally was classified with, in
      working days: ``DeadlineRules.working_days[source]`` of the rules the
      query used; ``None`` for emergencies (timed in hours or the same day)
      or when unknown. Profiles whose rule names a different deadline refuse
      the tally rather than score it wrongly.
    """

    received: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    open_overdue: int = 0
    declined: int = 0
    late_task_ids: tuple[int, ...] = ()
    overdue_task_ids: tuple[int, ...] = ()
    due_working_days: int | None = None
    office_late: int = 0
    office_late_task_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name in ("received", "resolved_on_time", "resolved_late", "open_overdue", "declined", "office_late"):
            _check_count(getattr(self, name), name)
        object.__setattr__(self, "late_task_ids", _ids(self.late_task_ids, "late_task_ids"))
        object.__setattr__(self, "overdue_task_ids", _ids(self.overdue_task_ids, "overdue_task_ids"))
        object.__setattr__(self, "office_late_task_ids", _ids(self.office_late_task_ids, "office_late_task_ids"))
        if len(self.office_late_task_ids) > self.office_late:
            raise ValueError("more office_late_task_ids than office_late")
        if len(self.late_task_ids) > self.resolved_late:
            raise ValueError("more late_task_ids than resolved_late")
        if len(self.overdue_task_ids) > self.open_overdue:
            raise ValueError("more overdue_task_ids than open_overdue")
        if self.due_working_days is not None:
            _check_count(self.due_working_days, "due_working_days")

    @property
    def missed(self) -> int:
        """Tasks not done within their deadline: resolved late plus open overdue."""
        return self.resolved_late + self.open_overdue

    @property
    def missed_task_ids(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.late_task_ids) | set(self.overdue_task_ids)))

    def __add__(self, other: TaskTally) -> TaskTally:
        if not isinstance(other, TaskTally):
            return NotImplemented
        due = self.due_working_days if self.due_working_days == other.due_working_days else None
        return TaskTally(
            received=self.received + other.received,
            resolved_on_time=self.resolved_on_time + other.resolved_on_time,
            resolved_late=self.resolved_late + other.resolved_late,
            open_overdue=self.open_overdue + other.open_overdue,
            declined=self.declined + other.declined,
            late_task_ids=self.late_task_ids + other.late_task_ids,
            overdue_task_ids=self.overdue_task_ids + other.overdue_task_ids,
            due_working_days=due,
            office_late=self.office_late + other.office_late,
            office_late_task_ids=self.office_late_task_ids + other.office_late_task_ids,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "resolved_on_time": self.resolved_on_time,
            "resolved_late": self.resolved_late,
            "open_overdue": self.open_overdue,
            "declined": self.declined,
            "late_task_ids": list(self.late_task_ids),
            "overdue_task_ids": list(self.overdue_task_ids),
            "due_working_days": self.due_working_days,
            "office_late": self.office_late,
            "office_late_task_ids": list(self.office_late_task_ids),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskTally:
        # Counts frozen before a field existed read as its default.
        values: dict[str, Any] = {f.name: tuple(data[f.name]) if isinstance(data[f.name], list) else data[f.name]
                                  for f in fields(cls) if f.name in data}
        return cls(**values)


# ---------------------------------------------------------------------------
# Unit compliance
# ---------------------------------------------------------------------------

_COUNT_FIELDS = (
    "uploads_qa",
    "uploads_document",
    "modifications",
    "deletions",
    "revocations",
    "verifications",
    "published_entries",
    "covered_entries",
    "suggestions_received",
    "suggestions_acted_in_time",
    "suggestions_not_acted",
    "usages",
    "usages_confirmed_wrong",
    "wrong_answers_late_policy",
    "unit_suggestions_accepted",
    "unit_suggestions_declined",
)


@dataclass(frozen=True, kw_only=True)
class UnitCompliance:
    """What one unit did for the knowledge base in one period.

    Knowledge work (changes count when published, i.e. after the office's
    review, in the period):

    * ``uploads_qa``: new entries in one-question-one-answer form (一问一答).
    * ``uploads_document``: new entries in any other form (documents, long text).
    * ``uploads_by_category``: new entries per content category (Licheng
      Art. 4: 政策法规、行政区划、社会民生、热点问题、通知公告; entries without a
      category under ``"未分类"``). When given, it sums to the uploads.
    * ``upload_entry_ids``: evidence, the new entries' ids.
    * ``modifications``: published changes to existing standard answers.
    * ``deletions``: entries removed as invalid (失效知识删除).
    * ``revocations``: entries withdrawn on the unit's revocation request (撤销).
    * ``verifications``: entries confirmed still correct, unchanged (校核).

    Coverage (Nankang "全年更新（或校核）一次"):

    * ``published_entries``: the unit's entries published at the period end.
    * ``covered_entries``: of those, created, updated or verified within
      :meth:`Period.coverage_window` (the 12 months ending at the period end).
    * ``uncovered_entry_ids``: evidence, the published entries not covered.

    Tasks: ``tasks_by_source`` maps every key of :data:`TASK_SOURCES` to a
    :class:`TaskTally` (missing keys are filled with an empty tally).

    Suggestions (operators' suggestions and wrong-answer flags about the
    unit's entries that the office forwarded to the unit as a task; those it
    dismissed were never the unit's to act on):

    * ``suggestions_received``: forwarded to the unit in the period.
    * ``suggestions_acted_in_time``: acted on in the period (the fix
      published, or the task declined with the office's consent) by the
      deadline.
    * ``suggestions_not_acted``: not acted on in time: fixed late in the
      period, or still open and past the deadline at ``as_of`` (so one that
      stays open counts in every period it is overdue at the end of);
      ``suggestion_ids_not_acted`` (flag ids) is the evidence.

    Usage (operators answering calls with the unit's entries):

    * ``usages``: answers given with the unit's entries in the period.
    * ``usages_confirmed_wrong``: of those, confirmed wrong after review: a
      use of an entry version with a wrong-answer flag the office accepted by
      ``as_of``, unless the flag's task was declined by then (the office agreed
      with the unit that the answer was right).
    * ``wrong_answers_late_policy``: wrong-answer flags accepted in the period
      whose cause the office gave as a new policy handed over late (Huantai
      3.3), not declined by ``as_of``; ``late_policy_flag_ids`` the evidence.

    Suggestions the unit made to the office (知识建议, Licheng Art. 7(一)):
    ``unit_suggestions_accepted`` / ``unit_suggestions_declined``, by the
    office's decision in the period.

    Months (only months that are judged: ended by ``as_of`` — a month still
    running is not missed yet — and not ended before the unit was created):

    * ``months_without_update``: months in which the unit published no change
      of any kind (new entry, modification, deletion, revocation) and verified
      no entry.
    * ``months_without_change``: months in which the unit published no change
      (a verification confirms, it does not change: 校核 is not 更新).

    ``provisional`` (derived): the period had not ended at ``as_of``.
    """

    unit_code: str
    unit_name: str
    period: Period
    uploads_qa: int = 0
    uploads_document: int = 0
    uploads_by_category: Mapping[str, int] = field(default_factory=dict, hash=False)
    upload_entry_ids: tuple[int, ...] = ()
    modifications: int = 0
    deletions: int = 0
    revocations: int = 0
    verifications: int = 0
    published_entries: int = 0
    covered_entries: int = 0
    uncovered_entry_ids: tuple[int, ...] = ()
    tasks_by_source: Mapping[str, TaskTally] = field(default_factory=dict, hash=False)
    suggestions_received: int = 0
    suggestions_acted_in_time: int = 0
    suggestions_not_acted: int = 0
    suggestion_ids_not_acted: tuple[int, ...] = ()
    usages: int = 0
    usages_confirmed_wrong: int = 0
    months_without_update: tuple[str, ...] = ()
    months_without_change: tuple[str, ...] = ()
    wrong_answers_late_policy: int = 0
    late_policy_flag_ids: tuple[int, ...] = ()
    unit_suggestions_accepted: int = 0
    unit_suggestions_declined: int = 0
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        if not self.unit_code:
            raise ValueError("unit_code is required")
        if not isinstance(self.period, Period):
            raise TypeError("period must be a Period")
        for name in _COUNT_FIELDS:
            _check_count(getattr(self, name), name)

        by_category = dict(self.uploads_by_category)
        for key, value in by_category.items():
            _check_count(value, f"uploads_by_category[{key!r}]")
        if by_category and sum(by_category.values()) != self.uploads:
            raise ValueError(
                f"uploads_by_category sums to {sum(by_category.values())}, uploads are {self.uploads}"
            )
        object.__setattr__(self, "uploads_by_category", MappingProxyType(dict(sorted(by_category.items()))))

        tasks = dict(self.tasks_by_source)
        unknown = sorted(set(tasks) - set(TASK_SOURCES))
        if unknown:
            raise ValueError(f"unknown task sources {unknown}; expected some of {list(TASK_SOURCES)}")
        for key, tally in tasks.items():
            if not isinstance(tally, TaskTally):
                raise TypeError(f"tasks_by_source[{key!r}] must be a TaskTally")
        object.__setattr__(
            self,
            "tasks_by_source",
            MappingProxyType({key: tasks.get(key, TaskTally()) for key in TASK_SOURCES}),
        )

        for name in ("upload_entry_ids", "uncovered_entry_ids", "suggestion_ids_not_acted", "late_policy_flag_ids"):
            object.__setattr__(self, name, _ids(getattr(self, name), name))

        if self.covered_entries > self.published_entries:
            raise ValueError("covered_entries cannot exceed published_entries")
        if len(self.uncovered_entry_ids) > self.published_entries - self.covered_entries:
            raise ValueError("more uncovered_entry_ids than uncovered entries")
        if len(self.suggestion_ids_not_acted) > self.suggestions_not_acted:
            raise ValueError("more suggestion_ids_not_acted than suggestions_not_acted")
        if self.usages_confirmed_wrong > self.usages:
            raise ValueError("usages_confirmed_wrong cannot exceed usages")
        if len(self.late_policy_flag_ids) > self.wrong_answers_late_policy:
            raise ValueError("more late_policy_flag_ids than wrong_answers_late_policy")

        for name in ("months_without_update", "months_without_change"):
            months = tuple(sorted(set(getattr(self, name))))
            outside = sorted(set(months) - set(self.period.months()))
            if outside:
                raise ValueError(f"{name} outside the period {self.period.label}: {outside}")
            object.__setattr__(self, name, months)

    # -- derived values -----------------------------------------------------

    @property
    def uploads(self) -> int:
        return self.uploads_qa + self.uploads_document

    @property
    def provisional(self) -> bool:
        """The period had not ended when the counts were taken: they can still change."""
        if self.as_of is None:
            return False
        end = datetime.combine(self.period.end, time(23, 59, 59), tzinfo=self.as_of.tzinfo)
        return self.as_of < end

    @property
    def coverage(self) -> float | None:
        """Share of published entries covered in the year; ``None`` with no published entry."""
        if self.published_entries == 0:
            return None
        return self.covered_entries / self.published_entries

    @property
    def usage_error_rate(self) -> float | None:
        """Share of usages confirmed wrong; ``None`` when there was no usage."""
        if self.usages == 0:
            return None
        return self.usages_confirmed_wrong / self.usages

    def tally(self, *sources: str) -> TaskTally:
        """The tasks of the given sources added together (all sources when none given)."""
        unknown = [s for s in sources if s not in TASK_SOURCES]
        if unknown:
            raise ValueError(f"unknown task sources {unknown}")
        tallies = [self.tasks_by_source[source] for source in (sources or TASK_SOURCES)]
        total = tallies[0]
        for tally in tallies[1:]:
            total = total + tally
        return total

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form with stable keys (dates ISO, tuples as lists)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "period":
                value = value.to_dict()
            elif f.name == "tasks_by_source":
                value = {key: tally.to_dict() for key, tally in value.items()}
            elif f.name == "uploads_by_category":
                value = dict(value)
            elif f.name == "as_of":
                value = value.isoformat() if value is not None else None
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        out["coverage"] = self.coverage
        out["usage_error_rate"] = self.usage_error_rate
        out["provisional"] = self.provisional
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UnitCompliance:
        """The record back from :meth:`to_dict` (derived keys are recomputed, not read)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue  # frozen before the field existed: its default
            value = data[f.name]
            if f.name == "period":
                value = Period.from_dict(value)
            elif f.name == "tasks_by_source":
                value = {key: TaskTally.from_dict(tally) for key, tally in value.items()}
            elif f.name == "as_of":
                value = datetime.fromisoformat(value) if value is not None else None
            elif isinstance(value, list):
                value = tuple(value)
            values[f.name] = value
        if "months_without_change" not in data and "months_without_update" in values:
            # Frozen before the two were told apart: the closest count there is.
            values["months_without_change"] = values["months_without_update"]
        return cls(**values)


# ---------------------------------------------------------------------------
# Query (filled in with the database models)
# ---------------------------------------------------------------------------
#
# def compliance_for(session, period: Period, unit_codes=None, as_of=None,
#                    rules: DeadlineRules = DEFAULT_RULES) -> list[UnitCompliance]
#
# One UnitCompliance per unit (all active units when unit_codes is None),
# ordered by unit_code, following the definitions in the docstrings above.
# Late and overdue are judged with ``rules`` (kb.deadlines); a scoring profile
# supplies its own as DeadlineRules.from_mapping(profile.task_deadlines(settings)).
# Record rules.working_days[source] in each TaskTally.due_working_days.
# Read-only: it flushes and commits nothing.
