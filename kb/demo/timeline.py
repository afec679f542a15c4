"""The demo's time: a clock it moves itself, the working days before today, and the storylines' player.

A storyline is a generator that yields the moment of its next step; `play`
runs the steps of many storylines in time order, moving the clock to each.
"""
from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from kb.calendar import SHANGHAI, WorkingCalendar, to_shanghai

Story = Iterator[datetime]


class DemoClock:
    """The demo's now: moved to each step's moment by `play`, a minute on per use case, never past `limit`."""

    def __init__(self, start: datetime, limit: datetime):
        self.at, self.limit = start, limit

    def move_to(self, moment: datetime) -> None:
        if moment > self.limit:
            raise ValueError(f"demo step at {moment.isoformat()} is after now ({self.limit.isoformat()})")
        self.at = max(self.at, moment)

    def __call__(self) -> datetime:
        now, self.at = self.at, self.at + timedelta(minutes=1)
        if now > self.limit:
            raise ValueError(f"demo clock ran past now ({self.limit.isoformat()})")
        return now


class Timeline:
    """Working days before today, counted back (1 = the last working day before today), and moments on them."""

    def __init__(self, calendar: WorkingCalendar, today: date, span: int):
        self.calendar, self.today = calendar, today
        self._days: list[date] = []
        day = today
        while len(self._days) < span:
            day -= timedelta(days=1)
            if calendar.is_working_day(day):
                self._days.append(day)

    def day(self, ago: int) -> date:
        return self._days[ago - 1]

    @staticmethod
    def on(day: date, hhmm: str) -> datetime:
        return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=SHANGHAI)

    def at(self, ago: int, hhmm: str) -> datetime:
        return self.on(self.day(ago), hhmm)

    def later(self, moment: datetime, working_days: int, hhmm: str) -> datetime:
        day = to_shanghai(moment).date()
        for _ in range(working_days):
            day = self.calendar.next_working_day(day)
        return self.on(day, hhmm)


def play(stories: list[Story], clock: DemoClock) -> None:
    """Run the storylines' steps in time order (ties in the order the storylines were given)."""
    queue: list[tuple[datetime, int, Story]] = []
    for order, story in enumerate(stories):
        moment = next(story, None)
        if moment is not None:
            heapq.heappush(queue, (moment, order, story))
    while queue:
        moment, order, story = heapq.heappop(queue)
        clock.move_to(moment)
        following = next(story, None)
        if following is not None:
            if following < moment:
                raise ValueError(f"demo storyline went back in time: {following} after {moment}")
            heapq.heappush(queue, (following, order, story))
