"""Due dates per task source, on the official 2026 calendar (see test_calendar)."""

from datetime import date, datetime, timezone

import pytest

from kb.calendar import SHANGHAI, Deadline, WorkingCalendar
from kb.deadlines import (
    DEFAULT_RULES,
    DeadlineRules,
    FeedbackReason,
    TaskSource,
    due_for,
)

OFFICIAL = WorkingCalendar()
NEXT_YEAR_CONFIRMED = WorkingCalendar(overrides={date(2027, 1, 1): False}, confirmed_years=[2027])


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def due(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "source, due_at",
    [
        (TaskSource.OFFICE_FEEDBACK, due(2026, 10, 13)),
        (TaskSource.OPERATOR_SUGGESTION, due(2026, 10, 13)),
        (TaskSource.CITY_NOTICE, due(2026, 10, 9)),
        (TaskSource.UNIT_SELF_FOUND, due(2026, 10, 13)),
        (TaskSource.POLICY_CHANGE, due(2026, 10, 13)),
        (TaskSource.YEARLY_VERIFICATION, due(2026, 10, 20)),
        (TaskSource.EMERGENCY, due(2026, 9, 30)),
    ],
)
def test_each_source_has_its_default_number_of_working_days(source, due_at):
    # Received the day before National Day; Oct 8, 9, Sat 10, 12, 13, ...
    deadline = due_for(source, shanghai(2026, 9, 30, 10, 0), OFFICIAL)

    assert deadline == Deadline(due_at, provisional=False)


@pytest.mark.parametrize(
    "effective_on, due_at",
    [
        # Art. 10(2) "公布实施后的5个工作日内或实施之前": either alternative is on time,
        # so the deadline is the later one. Normal rule: Sep 29, 30, Oct 8, 9, Sat 10.
        (date(2026, 11, 1), due(2026, 10, 31)),  # takes effect later: until the day before
        (date(2026, 10, 11), due(2026, 10, 10)),  # the day before is the same day
        (date(2026, 10, 1), due(2026, 10, 10)),  # takes effect first: the 5 working days still count
        (date(2026, 9, 29), due(2026, 10, 10)),  # tomorrow: the normal rule
        (date(2026, 9, 28), due(2026, 10, 10)),  # already in effect: normal rule
        (date(2026, 9, 1), due(2026, 10, 10)),  # long in effect: normal rule
    ],
)
def test_a_policy_change_is_due_by_the_normal_rule_or_before_the_policy_takes_effect_whichever_is_later(
    effective_on, due_at
):
    deadline = due_for(
        TaskSource.POLICY_CHANGE,
        shanghai(2026, 9, 28, 10, 0),
        OFFICIAL,
        policy_effective_on=effective_on,
    )

    assert deadline == Deadline(due_at, provisional=False)


@pytest.mark.parametrize(
    "calendar, effective_on, deadline",
    [
        # The normal rule wins and carries its own provisional flag.
        (OFFICIAL, date(2027, 1, 6), Deadline(due(2027, 1, 6), provisional=True)),
        (NEXT_YEAR_CONFIRMED, date(2027, 1, 6), Deadline(due(2027, 1, 7), provisional=False)),
        (OFFICIAL, date(2027, 1, 1), Deadline(due(2027, 1, 6), provisional=True)),
        # The day before taking effect wins; unknown 2027 days could still push the normal rule past it.
        (OFFICIAL, date(2027, 2, 1), Deadline(due(2027, 1, 31), provisional=True)),
        (NEXT_YEAR_CONFIRMED, date(2027, 2, 1), Deadline(due(2027, 1, 31), provisional=False)),
    ],
)
def test_a_policy_change_deadline_is_provisional_only_while_its_outcome_could_change(
    calendar, effective_on, deadline
):
    received_at = shanghai(2026, 12, 30, 10, 0)

    assert (
        due_for(TaskSource.POLICY_CHANGE, received_at, calendar, policy_effective_on=effective_on)
        == deadline
    )


@pytest.mark.parametrize(
    "received_at, cycle_ends_on, deadline",
    [
        # 10 working days from Tue Dec 1: Dec 2, 3, 4, 7, 8, 9, 10, 11, 14, 15.
        (shanghai(2026, 12, 1, 10, 0), None, Deadline(due(2026, 12, 15), False)),
        (shanghai(2026, 12, 1, 10, 0), date(2026, 12, 31), Deadline(due(2026, 12, 15), False)),
        (shanghai(2026, 12, 1, 10, 0), date(2026, 12, 10), Deadline(due(2026, 12, 10), False)),
        (shanghai(2026, 12, 1, 10, 0), date(2026, 12, 1), Deadline(due(2026, 12, 1), False)),
        # Into 2027 the count is provisional; a cycle ending in 2026 is not.
        (shanghai(2026, 12, 28, 10, 0), None, Deadline(due(2027, 1, 11), True)),
        (shanghai(2026, 12, 28, 10, 0), date(2026, 12, 31), Deadline(due(2026, 12, 31), False)),
    ],
)
def test_a_yearly_verification_is_never_due_after_its_cycle_ends(
    received_at, cycle_ends_on, deadline
):
    assert (
        due_for(TaskSource.YEARLY_VERIFICATION, received_at, OFFICIAL, cycle_ends_on=cycle_ends_on)
        == deadline
    )


def test_a_yearly_verification_received_after_its_cycle_ended_is_refused():
    with pytest.raises(ValueError, match="cycle ended"):
        due_for(
            TaskSource.YEARLY_VERIFICATION,
            shanghai(2027, 1, 4, 10, 0),
            OFFICIAL,
            cycle_ends_on=date(2026, 12, 31),
        )


@pytest.mark.parametrize(
    "source, options",
    [
        (TaskSource.OFFICE_FEEDBACK, {"policy_effective_on": date(2026, 10, 1)}),
        (TaskSource.POLICY_CHANGE, {"cycle_ends_on": date(2026, 12, 31)}),
    ],
)
def test_a_date_meant_for_another_source_is_refused(source, options):
    with pytest.raises(ValueError, match="applies only"):
        due_for(source, shanghai(2026, 9, 28, 10, 0), OFFICIAL, **options)


@pytest.mark.parametrize(
    "received_at, deadline",
    [
        (shanghai(2026, 9, 30, 10, 0), Deadline(due(2026, 9, 30), provisional=False)),
        (shanghai(2026, 10, 3, 14, 0), Deadline(due(2026, 10, 8), provisional=False)),
    ],
)
def test_an_emergency_is_due_by_the_end_of_the_same_working_day_by_default(received_at, deadline):
    assert due_for(TaskSource.EMERGENCY, received_at, OFFICIAL) == deadline


@pytest.mark.parametrize(
    "received_at, due_at",
    [
        (shanghai(2026, 10, 3, 14, 0), shanghai(2026, 10, 3, 18, 0)),  # holidays do not pause
        (shanghai(2026, 9, 30, 22, 0), shanghai(2026, 10, 1, 2, 0)),
        (datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc), shanghai(2026, 9, 30, 14, 0)),
        (shanghai(2027, 1, 1, 10, 0), shanghai(2027, 1, 1, 14, 0)),  # no calendar involved
    ],
)
def test_an_emergency_is_due_after_fixed_clock_hours_when_configured(received_at, due_at):
    rules = DeadlineRules.from_mapping({"emergency_hours": 4})

    deadline = due_for(TaskSource.EMERGENCY, received_at, OFFICIAL, rules)

    assert deadline == Deadline(due_at, provisional=False)
    assert deadline.due_at.tzinfo == SHANGHAI


@pytest.mark.parametrize("source", list(TaskSource))
def test_a_naive_receipt_time_is_refused_for_every_source(source):
    with pytest.raises(ValueError, match="naive"):
        due_for(source, datetime(2026, 9, 30, 10, 0), OFFICIAL)


def test_a_naive_receipt_time_is_refused_for_hour_based_emergencies():
    rules = DeadlineRules(emergency_hours=4)

    with pytest.raises(ValueError, match="naive"):
        due_for(TaskSource.EMERGENCY, datetime(2026, 9, 30, 10, 0), OFFICIAL, rules)


def test_settings_change_only_the_numbers_they_name():
    rules = DeadlineRules.from_mapping({"city_notice": 3, "emergency_hours": "4"})

    assert rules.working_days[TaskSource.CITY_NOTICE] == 3
    assert rules.working_days[TaskSource.OFFICE_FEEDBACK] == 5
    assert rules.working_days[TaskSource.YEARLY_VERIFICATION] == 10
    assert rules.emergency_hours == 4
    # Received the day before National Day: Oct 8, 9, Sat 10.
    assert due_for(
        TaskSource.CITY_NOTICE, shanghai(2026, 9, 30, 10, 0), OFFICIAL, rules
    ).due_at == due(2026, 10, 10)


def test_empty_settings_give_the_default_rules():
    assert DeadlineRules.from_mapping({}) == DEFAULT_RULES
    assert DEFAULT_RULES.emergency_hours is None


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"emergency": 4}, "unknown deadline settings: emergency"),
        ({"city_notices": 3}, "unknown deadline settings: city_notices"),
        ({"city_notice": 0}, "at least 1"),
        ({"city_notice": "three"}, "at least 1"),
        ({"city_notice": 2.5}, "at least 1"),
        ({"city_notice": True}, "at least 1"),
        ({"emergency_hours": -4}, "at least 1"),
    ],
)
def test_bad_settings_are_refused(raw, message):
    with pytest.raises(ValueError, match=message):
        DeadlineRules.from_mapping(raw)


def test_rules_must_give_working_days_for_every_counted_source_and_not_emergencies():
    with pytest.raises(ValueError, match="exactly these sources"):
        DeadlineRules(working_days={TaskSource.CITY_NOTICE: 2})
    with pytest.raises(ValueError, match="exactly these sources"):
        DeadlineRules(working_days={**DEFAULT_RULES.working_days, TaskSource.EMERGENCY: 1})


def test_rules_cannot_be_changed_after_they_are_made():
    with pytest.raises(TypeError):
        DEFAULT_RULES.working_days[TaskSource.CITY_NOTICE] = 9  # type: ignore[index]


@pytest.mark.parametrize(
    "reason, label",
    [
        (FeedbackReason.UNCLEAR, "表述不清楚"),
        (FeedbackReason.INCOMPLETE, "内容不完整"),
        (FeedbackReason.CONTRADICTORY, "答案前后矛盾"),
        (FeedbackReason.REGULATION_CONFLICT, "新旧法规冲突"),
        (FeedbackReason.CITES_REPEALED, "引用失效或废止文件"),
        (FeedbackReason.OTHER, "其他"),
    ],
)
def test_each_feedback_reason_is_stored_in_english_and_shown_in_chinese(reason, label):
    assert FeedbackReason(reason.value) is reason
    assert reason.value == reason.name.lower()
    assert reason.label == label
