"""The working-day calendar through HTTP: the deadline rule exposed, overrides and confirmed years."""
from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest


def deadline(caller, received, **params):
    return caller.get("/api/v1/calendar/deadline", query_string={"received": received, **params})


def nth_working_day_after(day: date, n: int) -> date:
    """Counted straight from the official calendar, independently of kb.calendar."""
    while n:
        day += timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


def test_five_working_days_from_the_eve_of_national_day_end_on_october_13(people):
    r = deadline(people.operator, "2026-09-30T10:00:00+08:00", days=5)
    assert r.status_code == 200, r.json
    assert r.json["due_at"] == "2026-10-13T23:59:59+08:00"
    assert r.json["provisional"] is False
    assert nth_working_day_after(date(2026, 9, 30), 5) == date(2026, 10, 13)


@pytest.mark.parametrize("received, local_day, days, due", [
    ("2026-10-03T12:00:00+08:00", "2026-10-03", 2, "2026-10-09T23:59:59+08:00"),  # received on a holiday
    ("2026-02-14T09:00:00+08:00", "2026-02-14", 5, "2026-02-28T23:59:59+08:00"),  # worked Saturday, Spring Festival
    ("2026-09-18T16:00:00+08:00", "2026-09-18", 5, "2026-09-24T23:59:59+08:00"),  # worked Sunday Sep 20 counts
    ("2026-02-13T16:30:00Z", "2026-02-14", 1, "2026-02-24T23:59:59+08:00"),       # 00:30 Saturday in Shanghai
])
def test_the_deadline_endpoint_follows_the_official_calendar(people, received, local_day, days, due):
    r = deadline(people.maint_a, received, days=days)
    assert r.json["due_at"] == due and r.json["provisional"] is False
    assert nth_working_day_after(date.fromisoformat(local_day), days).isoformat() == due[:10]


def test_a_plus_sign_sent_unescaped_in_the_url_is_read_as_the_offset(people):
    r = people.operator.get("/api/v1/calendar/deadline?received=2026-09-30T10:00:00+08:00&days=5")
    assert r.status_code == 200, r.json
    assert r.json["due_at"] == "2026-10-13T23:59:59+08:00"


def test_a_task_source_applies_its_own_number_of_working_days(people):
    r = deadline(people.scorer, "2026-09-30T10:00:00+08:00", source="city_notice")
    assert r.json["due_at"] == "2026-10-09T23:59:59+08:00" and r.json["working_days"] == 2
    # Art. 10(2): within 5 working days or before it takes effect, whichever is later.
    r = deadline(people.office, "2026-09-28T10:00:00+08:00", source="policy_change", policy_effective_on="2026-10-01")
    assert r.json["due_at"] == "2026-10-10T23:59:59+08:00"
    r = deadline(people.office, "2026-09-28T10:00:00+08:00", source="policy_change", policy_effective_on="2026-11-01")
    assert r.json["due_at"] == "2026-10-31T23:59:59+08:00"


@pytest.mark.parametrize("params, field", [
    ({"received": "2026-09-30T10:00:00", "days": 5}, "received"),       # no time zone
    ({"received": "2026-09-30T10:00:00+08:00"}, "days"),                # neither days nor source
    ({"received": "2026-09-30T10:00:00+08:00", "days": 5, "source": "city_notice"}, "days"),
    ({"received": "2026-09-30T10:00:00+08:00", "days": 0}, "days"),
    ({"received": "yesterday", "days": 5}, "received"),
])
def test_bad_deadline_questions_are_422_naming_the_field(people, params, field):
    r = people.operator.get("/api/v1/calendar/deadline", query_string=params)
    assert r.status_code == 422, r.json
    errors = r.json["errors"]
    assert field in errors.get("query", errors)


def test_the_deadline_rule_needs_a_token(people):
    r = people.anonymous.get("/api/v1/calendar/deadline?received=2026-09-30T10:00:00%2B08:00&days=5")
    assert r.status_code == 401


def test_a_year_end_receipt_is_provisional_until_the_office_enters_and_confirms_the_new_year(people, clock):
    r = deadline(people.office, "2026-12-30T10:00:00+08:00", days=5)
    assert r.json == {**r.json, "due_at": "2027-01-06T23:59:59+08:00", "provisional": True}

    clock.set("2026-12-30T10:00:00+08:00")
    task = people.office.post("/api/v1/tasks", json={
        "source": "office_feedback", "reason": "incomplete", "unit_code": "HX", "detail": "缺少元旦期间的办理安排"}).json
    assert task["due_at"] == "2027-01-06T23:59:59+08:00" and task["provisional"] is True

    r = people.office.put("/api/v1/calendar/overrides/2027-01-01", json={"kind": "holiday", "note": "元旦"})
    assert r.status_code == 200, r.json
    assert r.json["recomputed_task_ids"] == [task["id"]]
    moved = people.office.get(f"/api/v1/tasks/{task['id']}").json
    assert moved["due_at"] == "2027-01-07T23:59:59+08:00" and moved["provisional"] is True  # 2027 not confirmed

    r = people.office.post("/api/v1/calendar/years/2027/confirm")
    assert r.status_code == 200 and r.json["overrides"] == 1 and r.json["recomputed_task_ids"] == [task["id"]]
    final = people.office.get(f"/api/v1/tasks/{task['id']}").json
    assert final["due_at"] == "2027-01-07T23:59:59+08:00" and final["provisional"] is False
    assert [e["kind"] for e in final["events"]] == ["opened", "deadline_recomputed", "deadline_recomputed"]
    assert deadline(people.operator, "2026-12-30T10:00:00+08:00", days=5).json["provisional"] is False


def test_an_override_inside_a_known_year_moves_the_deadlines_it_concerns_only(people, clock):
    clock.set("2026-11-02T10:00:00+08:00")  # Monday
    task = people.office.post("/api/v1/tasks", json={
        "source": "city_notice", "unit_code": "HX", "detail": "市级通知：供暖收费标准调整"}).json
    assert task["due_at"] == "2026-11-04T23:59:59+08:00"
    r = people.office.put("/api/v1/calendar/overrides/2026-11-03", json={"kind": "holiday", "note": "区政府通知停工"})
    assert r.json["recomputed_task_ids"] == [task["id"]]
    assert people.office.get(f"/api/v1/tasks/{task['id']}").json["due_at"] == "2026-11-05T23:59:59+08:00"
    assert people.office.put("/api/v1/calendar/overrides/2026-12-01",
                             json={"kind": "holiday"}).json["recomputed_task_ids"] == []

    r = people.office.delete("/api/v1/calendar/overrides/2026-11-03")
    assert r.status_code == 200 and r.json["recomputed_task_ids"] == [task["id"]]
    assert people.office.get(f"/api/v1/tasks/{task['id']}").json["due_at"] == "2026-11-04T23:59:59+08:00"
    listing = people.operator.get("/api/v1/calendar/overrides", query_string={"year": 2026}).json
    assert [o["date"] for o in listing["overrides"]] == ["2026-12-01"]


def test_a_second_put_for_the_same_date_replaces_the_first(people):
    people.office.put("/api/v1/calendar/overrides/2027-02-20", json={"kind": "holiday"})
    r = people.office.put("/api/v1/calendar/overrides/2027-02-20", json={"kind": "working_day", "note": "春节调休上班"})
    assert r.json["kind"] == "working_day" and r.json["note"] == "春节调休上班"
    assert len(people.office.get("/api/v1/calendar/overrides?year=2027").json["overrides"]) == 1


def test_confirming_a_year_twice_changes_nothing(people):
    first = people.office.post("/api/v1/calendar/years/2027/confirm").json
    second = people.office.post("/api/v1/calendar/years/2027/confirm").json
    assert first["confirmed_at"] == second["confirmed_at"]
    assert [y["year"] for y in people.office.get("/api/v1/calendar/overrides").json["confirmed_years"]] == [2027]


@pytest.mark.parametrize("caller", ["operator", "maint_a", "rev_a", "scorer"])
def test_only_the_office_changes_the_calendar(people, caller):
    who = getattr(people, caller)
    for r in (who.put("/api/v1/calendar/overrides/2027-01-01", json={"kind": "holiday"}),
              who.delete("/api/v1/calendar/overrides/2027-01-01"),
              who.post("/api/v1/calendar/years/2027/confirm")):
        assert r.status_code == 403 and "热线办" in r.json["message"]


def test_bad_override_input_is_a_4xx(people):
    assert people.office.put("/api/v1/calendar/overrides/2027-13-01", json={"kind": "holiday"}).status_code == 422
    assert people.office.put("/api/v1/calendar/overrides/2027-01-01", json={"kind": "day_off"}).status_code == 422
    assert people.office.put("/api/v1/calendar/overrides/2027-01-01", json={}).status_code == 422
    assert people.office.delete("/api/v1/calendar/overrides/2027-01-02").status_code == 404
    assert people.office.post("/api/v1/calendar/years/1999/confirm").status_code == 422


def test_deadline_rules_come_from_the_settings(app, people):
    app.config["DEADLINE_RULES"] = '{"city_notice": 3}'
    r = deadline(people.operator, "2026-09-30T10:00:00+08:00", source="city_notice")
    assert r.json["due_at"] == "2026-10-10T23:59:59+08:00" and r.json["working_days"] == 3


def test_misspelt_deadline_settings_are_refused_at_once():
    from service.jobs import correction_settings

    with pytest.raises(ValueError, match="KB_DEADLINE_RULES"):
        correction_settings({"DEADLINE_RULES": '{"city_notise": 3}'})
    with pytest.raises(ValueError, match="KB_DEADLINE_RULES"):
        correction_settings({"DEADLINE_RULES": "{not json"})
    with pytest.raises(ValueError, match="cycle_months"):
        correction_settings({"VERIFICATION_CYCLE_MONTHS": 5})
    assert correction_settings({"VERIFICATION_CYCLE_MONTHS": "6"}).cycle_months == 6
