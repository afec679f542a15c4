"""kb.compliance: periods and the frozen records that scoring reads."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timezone

import pytest

from kb.compliance import TASK_SOURCES, Period, TaskTally

from .factories import late, make_unit


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2026-10", date(2026, 10, 1), date(2026, 10, 31), "2026-10"),
        ("2026-2", date(2026, 2, 1), date(2026, 2, 28), "2026-02"),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29), "2028-02"),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"),
        ("2026-q1", date(2026, 1, 1), date(2026, 3, 31), "2026-Q1"),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "2026"),
        ("2026-01-05..2026-02-01", date(2026, 1, 5), date(2026, 2, 1), "2026-01-05..2026-02-01"),
        (" 2026-04-01..2026-06-30 ", date(2026, 4, 1), date(2026, 6, 30), "2026-Q2"),
    ],
)
def test_period_labels_parse_to_inclusive_ranges(text, start, end, label):
    assert Period.parse(text) == Period(start, end, label)


def test_a_range_that_is_exactly_a_month_gets_the_month_label():
    assert Period.parse(start=date(2026, 10, 1), end=date(2026, 10, 31)).label == "2026-10"
    assert Period.parse(start=date(2026, 1, 1), end=date(2026, 12, 31)).label == "2026"
    assert Period.parse(start=date(2026, 1, 1), end=date(2026, 1, 1)).label == "2026-01-01..2026-01-01"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period": "2026-13"}, "invalid month"),
        ({"period": "2026-Q5"}, "invalid period"),
        ({"period": "Oct 2026"}, "invalid period"),
        ({"period": "2026-02-30..2026-03-01"}, "invalid date range"),
        ({"period": "2026-03-01..2026-02-01"}, "after its end"),
        ({}, "a period is required"),
        ({"start": date(2026, 1, 1)}, "both start and end"),
        ({"period": "2026", "start": date(2026, 1, 1), "end": date(2026, 2, 1)}, "not both"),
    ],
)
def test_bad_periods_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Period.parse(**kwargs)


def test_period_months_and_coverage_window():
    assert Period.parse("2026-01-25..2026-03-02").months() == ["2026-01", "2026-02", "2026-03"]
    assert Period.parse("2025-12-31..2026-01-01").months() == ["2025-12", "2026-01"]
    assert Period.parse("2026").coverage_window().label == "2026"
    assert Period.parse("2026-02").coverage_window() == Period(date(2025, 3, 1), date(2026, 2, 28), "2025-03-01..2026-02-28")
    assert date(2026, 10, 31) in Period.parse("2026-10")
    assert date(2026, 11, 1) not in Period.parse("2026-10")


def test_records_are_frozen():
    unit = make_unit()
    with pytest.raises(dataclasses.FrozenInstanceError):
        unit.uploads_qa = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        unit.tasks_by_source["city_notice"] = TaskTally()  # type: ignore[index]


def test_every_task_source_is_present_and_unknown_ones_are_refused():
    unit = make_unit(tasks_by_source={"city_notice": late(3)})
    assert tuple(unit.tasks_by_source) == TASK_SOURCES
    assert unit.tasks_by_source["emergency"] == TaskTally()
    with pytest.raises(ValueError, match="unknown task sources"):
        make_unit(tasks_by_source={"hotline": TaskTally()})


def test_tallies_add_up_across_sources():
    unit = make_unit(
        tasks_by_source={
            "office_feedback": TaskTally(received=4, resolved_on_time=2, resolved_late=1, late_task_ids=(9,)),
            "city_notice": late(3, overdue=(5,)),
        }
    )
    total = unit.tally("office_feedback", "city_notice")
    assert (total.received, total.resolved_on_time, total.missed, total.missed_task_ids) == (6, 2, 3, (3, 5, 9))
    assert unit.tally().received == 6


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"uploads_qa": -1}, "must not be negative"),
        ({"uploads_qa": 1.0}, "must be an int"),
        ({"published_entries": 3, "covered_entries": 4}, "covered_entries"),
        ({"usages": 2, "usages_confirmed_wrong": 3}, "usages_confirmed_wrong"),
        ({"uploads_qa": 2, "uploads_by_category": {"政策法规": 1}}, "uploads_by_category"),
        ({"months_without_update": ("2025-12",)}, "outside the period"),
    ],
)
def test_inconsistent_counts_are_refused(overrides, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make_unit(**overrides)


def test_coverage_and_usage_error_rate_are_none_without_a_base():
    assert make_unit().coverage is None
    assert make_unit().usage_error_rate is None
    unit = make_unit(published_entries=8, covered_entries=6, usages=40, usages_confirmed_wrong=2)
    assert (unit.coverage, unit.usage_error_rate) == (0.75, 0.05)


def test_to_dict_is_json_with_stable_keys():
    unit = make_unit(
        uploads_qa=2,
        uploads_by_category={"社会民生": 1, "政策法规": 1},
        upload_entry_ids=(12, 11),
        tasks_by_source={"city_notice": late(3, due=2)},
        months_without_update=("2026-03", "2026-01"),
        as_of=datetime(2027, 1, 1, tzinfo=timezone.utc),
    )
    data = unit.to_dict()
    assert list(data)[:4] == ["unit_code", "unit_name", "period", "uploads_qa"]
    assert list(data)[-3:] == ["coverage", "usage_error_rate", "provisional"]
    assert data["provisional"] is False  # as_of is after the period end
    assert data["upload_entry_ids"] == [11, 12]
    assert data["months_without_update"] == ["2026-01", "2026-03"]
    assert data["tasks_by_source"]["city_notice"]["late_task_ids"] == [3]
    assert data["as_of"] == "2027-01-01T00:00:00+00:00"
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
