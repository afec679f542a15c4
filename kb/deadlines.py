"""Due dates for correction tasks, by where the task came from.

Every rule counts working days on a ``WorkingCalendar`` (see kb.calendar for
the counting rule) except emergencies, which are due the same working day or
after a fixed number of clock hours. The numbers are settings
(``DeadlineRules``), with defaults from the Licheng rules (Art. 10 and 13)
and Nankang's practice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from kb.calendar import Deadline, WorkingCalendar, end_of_day, to_shanghai


class TaskSource(StrEnum):
    OFFICE_FEEDBACK = "office_feedback"
    OPERATOR_SUGGESTION = "operator_suggestion"
    CITY_NOTICE = "city_notice"
    UNIT_SELF_FOUND = "unit_self_found"
    POLICY_CHANGE = "policy_change"
    EMERGENCY = "emergency"
    YEARLY_VERIFICATION = "yearly_verification"
    EXPIRY = "expiry"  # an entry's expiry date is near: extend or replace it


class FeedbackReason(StrEnum):
    """Why the hotline office sent an entry back to its unit."""

    UNCLEAR = "unclear"
    INCOMPLETE = "incomplete"
    CONTRADICTORY = "contradictory"
    REGULATION_CONFLICT = "regulation_conflict"
    CITES_REPEALED = "cites_repealed"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The wording the office uses."""
        return FEEDBACK_REASON_LABELS[self]


FEEDBACK_REASON_LABELS: Mapping[FeedbackReason, str] = MappingProxyType({
    FeedbackReason.UNCLEAR: "表述不清楚",
    FeedbackReason.INCOMPLETE: "内容不完整",
    FeedbackReason.CONTRADICTORY: "答案前后矛盾",
    FeedbackReason.REGULATION_CONFLICT: "新旧法规冲突",
    FeedbackReason.CITES_REPEALED: "引用失效或废止文件",
    FeedbackReason.OTHER: "其他",
})

#: Chinese names of the task sources, for exports and reasons.
TASK_SOURCE_TITLES: Mapping[str, str] = MappingProxyType(
    {
        "office_feedback": "热线办反馈",
        "operator_suggestion": "话务员建议",
        "city_notice": "市级通知更新",
        "unit_self_found": "单位自查纠错",
        "policy_change": "政策变化",
        "emergency": "突发事项",
        "yearly_verification": "年度校核",
        "expiry": "知识到期",
    }
)
if set(TASK_SOURCE_TITLES) != {source.value for source in TaskSource}:  # pragma: no cover - a new source needs a title
    raise ImportError("TASK_SOURCE_TITLES must name every kb.deadlines.TaskSource")

DEFAULT_WORKING_DAYS: Mapping[TaskSource, int] = MappingProxyType({
    TaskSource.OFFICE_FEEDBACK: 5,
    TaskSource.OPERATOR_SUGGESTION: 5,
    TaskSource.CITY_NOTICE: 2,
    TaskSource.UNIT_SELF_FOUND: 5,
    TaskSource.POLICY_CHANGE: 5,
    TaskSource.YEARLY_VERIFICATION: 10,
    # Expiry: the task opens this many working days before the entry expires and is due by then.
    TaskSource.EXPIRY: 10,
})

_COUNTED_SOURCES = frozenset(TaskSource) - {TaskSource.EMERGENCY}


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    return value


@dataclass(frozen=True)
class DeadlineRules:
    """How long each task source may take; settings, not constants."""

    working_days: Mapping[TaskSource, int] = field(default_factory=lambda: DEFAULT_WORKING_DAYS)
    # None: end of the same working day; a number: that many clock hours.
    emergency_hours: int | None = None

    def __post_init__(self) -> None:
        keys = {TaskSource(key) for key in self.working_days}
        if keys != _COUNTED_SOURCES:
            # Emergencies are timed by emergency_hours, never by working days.
            raise ValueError(
                "working_days needs exactly these sources: "
                + ", ".join(sorted(_COUNTED_SOURCES))
            )
        checked = {TaskSource(k): _positive_int(k, v) for k, v in self.working_days.items()}
        object.__setattr__(self, "working_days", MappingProxyType(checked))
        if self.emergency_hours is not None:
            object.__setattr__(
                self, "emergency_hours", _positive_int("emergency_hours", self.emergency_hours)
            )

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> DeadlineRules:
        """Defaults changed by ``raw``, e.g. ``{"city_notice": 3, "emergency_hours": 4}``.

        Values may be ints or digit strings (environment variables).
        """
        known = {source.value for source in _COUNTED_SOURCES} | {"emergency_hours"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(
                f"unknown deadline settings: {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        working_days = dict(DEFAULT_WORKING_DAYS)
        working_days.update(
            (TaskSource(key), value) for key, value in raw.items() if key != "emergency_hours"
        )
        # Values are checked once, in __post_init__.
        return cls(working_days=working_days, emergency_hours=raw.get("emergency_hours"))


DEFAULT_RULES = DeadlineRules()


def due_for(
    source: TaskSource,
    received_at: datetime,
    calendar: WorkingCalendar,
    rules: DeadlineRules = DEFAULT_RULES,
    *,
    policy_effective_on: date | None = None,
    cycle_ends_on: date | None = None,
) -> Deadline:
    """When a correction task from ``source`` received at ``received_at`` is due.

    ``policy_effective_on`` is only for policy changes, ``cycle_ends_on`` only
    for yearly verification.
    """
    source = TaskSource(source)
    received_on = to_shanghai(received_at).date()
    if policy_effective_on is not None and source is not TaskSource.POLICY_CHANGE:
        raise ValueError("policy_effective_on applies only to policy_change tasks")
    if cycle_ends_on is not None and source not in (TaskSource.YEARLY_VERIFICATION, TaskSource.EXPIRY):
        raise ValueError("cycle_ends_on applies only to yearly_verification and expiry tasks")

    if source is TaskSource.EMERGENCY:
        if rules.emergency_hours is None:
            return calendar.end_of_same_working_day(received_at)
        # Clock hours are elapsed time, so add them in UTC.
        due_at = received_at.astimezone(timezone.utc) + timedelta(hours=rules.emergency_hours)
        return Deadline(to_shanghai(due_at), provisional=False)

    counted = calendar.add_working_days(received_at, rules.working_days[source])
    if source is TaskSource.POLICY_CHANGE and policy_effective_on is not None:
        # Art. 10(2) "公布实施后的5个工作日内或实施之前": two alternatives, either
        # suffices. Entered before the policy takes effect is on time even when
        # that is more than N working days after publication, so the deadline
        # is the later of the two. A policy already in effect on the day of
        # receipt has only the normal rule.
        if policy_effective_on > received_on:
            day_before = policy_effective_on - timedelta(days=1)
            return _extended(counted, day_before, received_on, calendar)
    if source is TaskSource.EXPIRY and cycle_ends_on is not None:
        # Extended or replaced while the entry is still in effect (cycle_ends_on: its last day).
        if cycle_ends_on < received_on:
            return counted  # already expired: fix it under the counted rule
        return _capped(counted, cycle_ends_on, received_on, calendar)
    if source is TaskSource.YEARLY_VERIFICATION and cycle_ends_on is not None:
        if cycle_ends_on < received_on:
            raise ValueError(
                f"verification cycle ended on {cycle_ends_on}, before receipt on {received_on}"
            )
        # Verification must happen within its cycle.
        return _capped(counted, cycle_ends_on, received_on, calendar)
    return counted


def _extended(
    counted: Deadline, last_day: date, received_on: date, calendar: WorkingCalendar
) -> Deadline:
    """The counted deadline or the end of ``last_day``, whichever comes later.

    When ``last_day`` wins it is provisional only if an unknown day lies
    between receipt and it: only then could the official schedule still push
    the counted deadline past it.
    """
    end = end_of_day(last_day)
    if counted.due_at >= end:
        return counted
    days = (last_day - received_on).days
    provisional = any(
        not calendar.knows(received_on + timedelta(days=i)) for i in range(1, days + 1)
    )
    return Deadline(end, provisional)


def _capped(
    counted: Deadline, cap_day: date, received_on: date, calendar: WorkingCalendar
) -> Deadline:
    """The counted deadline or the end of ``cap_day``, whichever comes first.

    When the cap wins it is provisional only if an unknown day lies between
    receipt and the cap: only then could the official schedule still make the
    counted deadline the earlier one.
    """
    cap = end_of_day(cap_day)
    if counted.due_at <= cap:
        return counted
    days_to_cap = (cap_day - received_on).days
    provisional = any(
        not calendar.knows(received_on + timedelta(days=i)) for i in range(1, days_to_cap + 1)
    )
    return Deadline(cap, provisional)
