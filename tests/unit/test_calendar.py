"""Working days on the official 2026 calendar and the office's overrides.

2026 as published by the State Council (and in chinese_calendar):
Spring Festival Feb 15-23 off, Sat Feb 14 and Sat Feb 28 worked;
Mid-Autumn Sep 25-27 off; National Day Oct 1-7 off, Sun Sep 20 and
Sat Oct 10 worked. 2027 is not in the library.
"""

from datetime import date, datetime, timedelta, timezone

import pytest

from kb.calendar import SHANGHAI, Deadline, WorkingCalendar, end_of_day

OFFICIAL = WorkingCalendar()


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def due(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "day, working",
    [
        (date(2026, 2, 14), True),  # Saturday worked before Spring Festival
        (date(2026, 2, 16), False),  # Spring Festival, a Monday
        (date(2026, 2, 28), True),  # Saturday worked after Spring Festival
        (date(2026, 9, 20), True),  # Sunday worked before National Day
        (date(2026, 9, 25), False),  # Mid-Autumn, a Friday
        (date(2026, 10, 7), False),  # National Day, a Wednesday
        (date(2026, 10, 10), True),  # Saturday worked after National Day
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2026, 3, 10), True),  # an ordinary Tuesday
        (date(2027, 1, 1), True),  # unknown year: Friday, so a working day
        (date(2027, 1, 2), False),  # unknown year: Saturday
    ],
)
def test_a_day_is_working_by_the_official_schedule_or_else_by_weekday(day, working):
    assert OFFICIAL.is_working_day(day) is working


@pytest.mark.parametrize(
    "received_at, days, due_at",
    [
        # Before National Day: Oct 8, 9, Sat 10, 12, 13.
        (shanghai(2026, 9, 30, 10, 0), 5, due(2026, 10, 13)),
        # Received on a holiday: counting starts Oct 8; Oct 8, 9.
        (shanghai(2026, 10, 3, 12, 0), 2, due(2026, 10, 9)),
        # Received on the worked Saturday before Spring Festival; it does not
        # count: Feb 24, 25, 26, 27, Sat 28.
        (shanghai(2026, 2, 14, 9, 0), 5, due(2026, 2, 28)),
        # 16:30 UTC on Fri Feb 13 is 00:30 on Sat Feb 14 in Shanghai: Feb 14 is
        # the day of receipt, so the first counted day is Feb 24, not Feb 14.
        (datetime(2026, 2, 13, 16, 30, tzinfo=timezone.utc), 1, due(2026, 2, 24)),
        # Same on the eve of National Day: Wed Sep 30 01:00 local.
        (datetime(2026, 9, 29, 17, 0, tzinfo=timezone.utc), 1, due(2026, 10, 8)),
        # Friday before the worked Sunday: Sun 20, 21, 22, 23, 24.
        (shanghai(2026, 9, 18, 16, 0), 5, due(2026, 9, 24)),
        # An ordinary Friday: the weekend is skipped.
        (shanghai(2026, 3, 6, 11, 0), 5, due(2026, 3, 13)),
        # A minute before midnight still does not count; Mid-Autumn skipped.
        (shanghai(2026, 9, 24, 23, 59), 1, due(2026, 9, 28)),
        # Midnight belongs to the new day.
        (shanghai(2026, 2, 24, 0, 0), 1, due(2026, 2, 25)),
        # Friday before Spring Festival: Sat Feb 14, then Feb 24.
        (shanghai(2026, 2, 13, 9, 0), 2, due(2026, 2, 24)),
    ],
)
def test_working_days_count_from_the_day_after_receipt_in_shanghai(received_at, days, due_at):
    assert OFFICIAL.add_working_days(received_at, days) == Deadline(due_at, provisional=False)


def test_the_deadline_is_written_as_the_last_second_of_the_day_in_shanghai():
    deadline = OFFICIAL.add_working_days(shanghai(2026, 3, 9, 8, 0), 1)

    assert deadline.due_at.tzinfo == SHANGHAI
    assert (deadline.due_at.hour, deadline.due_at.minute, deadline.due_at.second) == (23, 59, 59)
    assert deadline.due_at.microsecond == 0


@pytest.mark.parametrize("days", [1, 2, 5, 10])
def test_every_2026_deadline_falls_on_a_working_day_n_working_days_after_receipt(days):
    day = date(2026, 1, 1)
    while day <= date(2026, 11, 30):
        deadline = OFFICIAL.add_working_days(shanghai(day.year, day.month, day.day, 12), days)
        due_on = deadline.due_at.date()
        assert OFFICIAL.is_working_day(due_on)
        assert OFFICIAL.working_days_between(day, due_on) == days
        day += timedelta(days=1)


def test_a_deadline_counting_into_an_unknown_year_is_provisional():
    # Dec 31, then 2027 by weekday: Fri Jan 1, Mon 4, Tue 5, Wed 6.
    deadline = OFFICIAL.add_working_days(shanghai(2026, 12, 30, 10, 0), 5)

    assert deadline == Deadline(due(2027, 1, 6), provisional=True)


def test_a_deadline_ending_on_the_last_known_day_is_not_provisional():
    deadline = OFFICIAL.add_working_days(shanghai(2026, 12, 29, 10, 0), 2)

    assert deadline == Deadline(due(2026, 12, 31), provisional=False)


def test_confirming_next_year_with_its_holidays_moves_the_deadline_and_makes_it_final():
    calendar = WorkingCalendar(overrides={date(2027, 1, 1): False}, confirmed_years=[2027])

    # Dec 31, then Jan 4, 5, 6, 7.
    deadline = calendar.add_working_days(shanghai(2026, 12, 30, 10, 0), 5)

    assert deadline == Deadline(due(2027, 1, 7), provisional=False)


def test_overriding_some_days_of_an_unconfirmed_year_keeps_the_deadline_provisional():
    calendar = WorkingCalendar(overrides={date(2027, 1, 1): False})

    deadline = calendar.add_working_days(shanghai(2026, 12, 30, 10, 0), 5)

    assert deadline == Deadline(due(2027, 1, 7), provisional=True)


def test_a_deadline_whose_every_counted_day_is_overridden_is_not_provisional():
    calendar = WorkingCalendar(
        overrides={
            date(2027, 1, 1): False,
            date(2027, 1, 2): False,
            date(2027, 1, 3): False,
            date(2027, 1, 4): True,
        }
    )

    deadline = calendar.add_working_days(shanghai(2026, 12, 31, 10, 0), 1)

    assert deadline == Deadline(due(2027, 1, 4), provisional=False)


@pytest.mark.parametrize(
    "calendar, day, known",
    [
        (OFFICIAL, date(2026, 6, 1), True),
        (OFFICIAL, date(2027, 6, 1), False),
        (OFFICIAL, date(2003, 6, 1), False),
        (WorkingCalendar(overrides={date(2027, 1, 1): False}), date(2027, 1, 1), True),
        (WorkingCalendar(overrides={date(2027, 1, 1): False}), date(2027, 1, 4), False),
        (WorkingCalendar(confirmed_years=[2027]), date(2027, 6, 1), True),
    ],
)
def test_the_calendar_knows_library_years_confirmed_years_and_overridden_days(
    calendar, day, known
):
    assert calendar.knows(day) is known


def test_a_confirmed_year_without_overrides_works_monday_to_friday():
    calendar = WorkingCalendar(confirmed_years=[2027])

    assert calendar.is_working_day(date(2027, 3, 5))  # Friday
    assert not calendar.is_working_day(date(2027, 3, 6))  # Saturday


def test_an_override_wins_over_the_official_calendar():
    calendar = WorkingCalendar(
        overrides={
            date(2026, 3, 10): False,  # an ordinary Tuesday made a holiday
            date(2026, 3, 8): True,  # an ordinary Sunday made a working day
            date(2026, 10, 5): True,  # a National Day holiday made a working day
        }
    )

    assert not calendar.is_working_day(date(2026, 3, 10))
    assert calendar.is_working_day(date(2026, 3, 8))
    assert calendar.is_working_day(date(2026, 10, 5))
    assert calendar.add_working_days(shanghai(2026, 3, 9, 10, 0), 1).due_at == due(2026, 3, 11)
    assert calendar.add_working_days(shanghai(2026, 3, 6, 10, 0), 1).due_at == due(2026, 3, 8)
    assert calendar.add_working_days(shanghai(2026, 9, 30, 10, 0), 1).due_at == due(2026, 10, 5)


@pytest.mark.parametrize(
    "received_at, deadline",
    [
        (shanghai(2026, 9, 30, 10, 0), Deadline(due(2026, 9, 30), provisional=False)),
        (shanghai(2026, 10, 3, 10, 0), Deadline(due(2026, 10, 8), provisional=False)),
        (shanghai(2026, 2, 14, 22, 0), Deadline(due(2026, 2, 14), provisional=False)),
        (shanghai(2026, 9, 19, 8, 0), Deadline(due(2026, 9, 20), provisional=False)),
        (shanghai(2027, 1, 1, 10, 0), Deadline(due(2027, 1, 1), provisional=True)),
    ],
)
def test_an_emergency_is_due_at_the_end_of_the_same_or_next_working_day(received_at, deadline):
    assert OFFICIAL.end_of_same_working_day(received_at) == deadline


@pytest.mark.parametrize(
    "day, next_day",
    [
        (date(2026, 9, 28), date(2026, 9, 29)),  # strictly after, even on a working day
        (date(2026, 9, 30), date(2026, 10, 8)),
        (date(2026, 9, 19), date(2026, 9, 20)),  # Saturday, then the worked Sunday
        (date(2026, 2, 13), date(2026, 2, 14)),
        (date(2026, 2, 14), date(2026, 2, 24)),
    ],
)
def test_the_next_working_day_skips_holidays_and_weekends(day, next_day):
    assert OFFICIAL.next_working_day(day) == next_day


@pytest.mark.parametrize(
    "start, end, count",
    [
        (date(2026, 9, 30), date(2026, 10, 13), 5),
        (date(2026, 2, 13), date(2026, 2, 28), 6),
        (date(2026, 3, 9), date(2026, 3, 9), 0),
        (date(2026, 10, 1), date(2026, 10, 7), 0),
    ],
)
def test_working_days_between_counts_after_start_through_end(start, end, count):
    assert OFFICIAL.working_days_between(start, end) == count


def test_working_days_between_refuses_an_end_before_the_start():
    with pytest.raises(ValueError):
        OFFICIAL.working_days_between(date(2026, 3, 9), date(2026, 3, 8))


@pytest.mark.parametrize("days", [0, -1])
def test_fewer_than_one_working_day_is_refused(days):
    with pytest.raises(ValueError, match="at least 1"):
        OFFICIAL.add_working_days(shanghai(2026, 3, 9, 10, 0), days)


def test_a_naive_receipt_time_is_refused():
    with pytest.raises(ValueError, match="naive"):
        OFFICIAL.add_working_days(datetime(2026, 3, 9, 10, 0), 5)
    with pytest.raises(ValueError, match="naive"):
        OFFICIAL.end_of_same_working_day(datetime(2026, 3, 9, 10, 0))


@pytest.mark.parametrize(
    "done_at, on_time",
    [
        (shanghai(2026, 3, 13, 23, 59, 59), True),
        (datetime(2026, 3, 13, 23, 59, 59, 400_000, tzinfo=SHANGHAI), True),
        (shanghai(2026, 3, 14, 0, 0, 0), False),
        (datetime(2026, 3, 13, 15, 59, 59, tzinfo=timezone.utc), True),
        (datetime(2026, 3, 13, 16, 0, 0, tzinfo=timezone.utc), False),
    ],
)
def test_work_done_by_the_last_second_of_the_due_day_is_on_time(done_at, on_time):
    deadline = Deadline(end_of_day(date(2026, 3, 13)), provisional=False)

    assert deadline.is_met_by(done_at) is on_time
