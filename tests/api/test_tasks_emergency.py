"""Emergencies keep the deadline rule they were opened with when deadlines are recounted later."""
from __future__ import annotations

import pytest

from kb.deadlines import DeadlineRules
from kb.services.tasks import CorrectionSettings


def set_emergency_hours(app, hours):
    app.extensions["kb.corrections"] = CorrectionSettings(rules=DeadlineRules(emergency_hours=hours))


def emergency(people):
    r = people.office.post("/api/v1/tasks", json={"source": "emergency", "unit_code": "HX",
                                                  "detail": "停水通知：今日起暂停供水"})
    assert r.status_code == 201, r.json
    return r.json


def due_at(people, task):
    return people.office.get(f"/api/v1/tasks/{task['id']}").json["due_at"]


@pytest.mark.parametrize("later_hours", [8, None])
def test_an_emergency_given_hours_keeps_its_deadline_when_the_setting_and_calendar_change(app, people, later_hours):
    set_emergency_hours(app, 4)
    task = emergency(people)  # Mon 2026-11-02 10:00
    assert task["due_at"] == "2026-11-02T14:00:00+08:00"

    set_emergency_hours(app, later_hours)
    r = people.office.put("/api/v1/calendar/overrides/2026-11-02", json={"kind": "holiday", "note": "临时停工"})
    assert task["id"] not in r.json["recomputed_task_ids"]
    assert due_at(people, task) == "2026-11-02T14:00:00+08:00"


def test_a_same_working_day_emergency_ignores_a_new_hours_setting_but_follows_the_calendar(app, people):
    task = emergency(people)  # Mon 2026-11-02 10:00, the default rule
    assert task["due_at"] == "2026-11-02T23:59:59+08:00"

    set_emergency_hours(app, 4)
    r = people.office.put("/api/v1/calendar/overrides/2026-11-20", json={"kind": "holiday"})
    assert task["id"] not in r.json["recomputed_task_ids"]
    assert due_at(people, task) == "2026-11-02T23:59:59+08:00"

    r = people.office.put("/api/v1/calendar/overrides/2026-11-02", json={"kind": "holiday", "note": "临时停工"})
    assert r.json["recomputed_task_ids"] == [task["id"]]
    assert due_at(people, task) == "2026-11-03T23:59:59+08:00"  # the next working day, still the same-day rule
