"""Working days on the official mainland-China calendar, plus office overrides.

The rule "within N working days of receipt" (see docs/deadlines.md):

1. The receipt time is read in Asia/Shanghai; its date there is the day of
   receipt.
2. The day of receipt never counts, whatever the hour.
3. Counting starts on the first working day after the day of receipt, so a
   task received on a weekend or holiday starts counting on the next working
   day.
4. The deadline is the end of the Nth counted working day, written as
   23:59:59 (microsecond 0) local time. Work done at or before that second is
   on time.
5. N is at least 1. The same-day rule for emergencies is a separate method.

A day is a working day by, in order: an office override for that date; the
``chinese_calendar`` library (State Council schedule, holidays and adjusted
working days); otherwise Monday to Friday. A deadline is *provisional* when a
day examined while counting lies outside what the calendar knows (not in the
library, no override, year not confirmed by the office), because the official
schedule for that year may still move it.
"""

from __future__ import annotations

import functools

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)
_ONE_DAY = timedelta(days=1)


def json_value(value):
    """`json.dumps(default=...)` for stored JSON and printed output: moments in RFC 3339 at +08:00, dates ISO."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(SHANGHAI).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_shanghai(moment: datetime) -> datetime:
    """The same instant in Asia/Shanghai; naive datetimes are refused."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        # A naive time could be UTC or local; guessing moves deadlines by a day.
        raise ValueError(f"timezone-aware datetime required, got naive {moment!r}")
    return moment.astimezone(SHANGHAI)


def end_of_day(day: date) -> datetime:
    """23:59:59 local time of ``day``: how every day-based deadline is written."""
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Deadline:
    due_at: datetime  # aware, Asia/Shanghai
    provisional: bool  # a day examined while counting is unknown to the calendar

    def is_met_by(self, done_at: datetime) -> bool:
        """Done at or before ``due_at``, to the second.

        Deadlines are whole seconds, so 23:59:59.4 on the due day is still on
        time.
        """
        return to_shanghai(done_at).replace(microsecond=0) <= self.due_at


class WorkingCalendar:
    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        confirmed_years: Iterable[int] = (),
    ) -> None:
        """``overrides`` maps a date to True (working day) or False (holiday).

        ``confirmed_years`` are years the office has entered in full through
        overrides, typically next year before the library ships it.
        """
        self._overrides: Mapping[date, bool] = MappingProxyType(dict(overrides or {}))
        self._confirmed_years = frozenset(confirmed_years)

    def knows(self, day: date) -> bool:
        """The calendar can say for certain whether ``day`` is a working day."""
        return (
            day in self._overrides
            or day.year in self._confirmed_years
            or _library_is_working_day(day) is not None
        )

    def is_working_day(self, day: date) -> bool:
        if day in self._overrides:
            return self._overrides[day]
        official = _library_is_working_day(day)
        if official is not None:
            return official
        return day.weekday() < 5

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        candidate = day + _ONE_DAY
        while not self.is_working_day(candidate):
            candidate += _ONE_DAY
        return candidate

    def add_working_days(self, received_at: datetime, days: int) -> Deadline:
        """End of the ``days``-th working day after the day of receipt."""
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        day = to_shanghai(received_at).date()
        provisional = False
        counted = 0
        while counted < days:
            day += _ONE_DAY
            provisional = provisional or not self.knows(day)
            if self.is_working_day(day):
                counted += 1
        return Deadline(end_of_day(day), provisional)

    def end_of_same_working_day(self, received_at: datetime) -> Deadline:
        """End of the day of receipt if it is a working day, else of the next one."""
        day = to_shanghai(received_at).date()
        # The receipt day itself decides the outcome, so it is examined too.
        provisional = not self.knows(day)
        while not self.is_working_day(day):
            day += _ONE_DAY
            provisional = provisional or not self.knows(day)
        return Deadline(end_of_day(day), provisional)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``.

        Counts the way deadlines do: a task received on ``start`` and due at
        the end of ``end`` had this many working days.
        """
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        span = (end - start).days
        return sum(self.is_working_day(start + timedelta(days=i)) for i in range(1, span + 1))


@functools.lru_cache(maxsize=8192)
def _library_is_working_day(day: date) -> bool | None:
    """The official answer, or None when the library has no data for the year.

    Remembered per date: the library's answer for a day never changes in a running process, and each call
    checks the date against its whole table (counting 50,000 deadlines spent 1 s there).
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None
