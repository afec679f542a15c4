"""Yearly verification (校核): verify unchanged, list what is outstanding, verification tasks resolve."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kb import jobs
from kb.jobs import JobContext
from kb.models import SearchOutbox
from tests.api.test_tasks_api import publish, published_entry


@pytest.fixture
def context(world, clock):
    return JobContext(uow_factory=world.uow, clock=clock)


def test_a_unit_reviewer_verifies_an_entry_unchanged_and_it_is_recorded(people, clock, session_factory):
    entry_id = published_entry(people)
    with session_factory() as s:
        outbox_before = s.scalar(select(func.count()).select_from(SearchOutbox))
    clock.set("2027-03-01T09:30:00+08:00")
    r = people.rev_a.post(f"/api/v1/knowledge/{entry_id}/verify", json={"note": "政策未变"}, headers={"If-Match": '"v1"'})
    assert r.status_code == 200, r.json
    assert r.json == {"entry_id": entry_id, "version": 1, "verified_at": "2027-03-01T09:30:00+08:00",
                      "verified_by": people.rev_a.actor.user_id, "resolved_task_ids": []}
    entry = people.operator.get(f"/api/v1/knowledge/{entry_id}").json
    assert entry["verified_at"] == "2027-03-01T09:30:00+08:00"  # stored in UTC, shown at +08:00 like every time
    events = people.office.get(f"/api/v1/audit-events?action=knowledge.verify&object_id={entry_id}").json["items"]
    assert events[0]["actor_id"] == people.rev_a.actor.user_id and events[0]["after"]["note"] == "政策未变"
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(SearchOutbox)) == outbox_before + 1


def test_only_a_reviewer_of_the_entrys_unit_or_the_office_verifies(people):
    entry_id = published_entry(people)
    for caller in ("maint_a", "operator", "scorer"):
        r = getattr(people, caller).post(f"/api/v1/knowledge/{entry_id}/verify", json={})
        assert r.status_code == 403 and "单位审核人" in r.json["message"]
    r = people.rev_b.post(f"/api/v1/knowledge/{entry_id}/verify", json={})
    assert r.status_code == 403 and "本单位" in r.json["message"]
    assert people.office.post(f"/api/v1/knowledge/{entry_id}/verify", json={}).status_code == 200
    assert people.rev_a.post(f"/api/v1/knowledge/{entry_id}/verify", json={"version": 3}).status_code == 409
    assert people.rev_a.post("/api/v1/knowledge/999999/verify", json={}).status_code == 404
    assert people.rev_a.post(f"/api/v1/knowledge/{entry_id}/verify", json={"note": 5}).status_code == 422


def test_entries_not_updated_or_verified_this_cycle_are_listed_for_their_unit(people, clock):
    a1, a2 = published_entry(people), published_entry(people, question="居住证多久办好？")
    b1 = published_entry(people, unit="b", question="失业金怎么领？")
    assert people.rev_a.get("/api/v1/verification/due").json["total"] == 0  # published in this cycle

    clock.set("2027-01-04T09:00:00+08:00")
    due = people.rev_a.get("/api/v1/verification/due").json
    assert due["cycle_starts_on"] == "2027-01-01" and due["cycle_ends_on"] == "2027-12-31"
    assert [i["entry_id"] for i in due["items"]] == [a1, a2]
    assert due["items"][0]["due_on"] == "2027-12-31" and due["items"][0]["last_checked_at"].startswith("2026-11-02")
    assert [i["entry_id"] for i in people.office.get("/api/v1/verification/due?unit=RSJ").json["items"]] == [b1]
    assert people.office.get("/api/v1/verification/due").json["total"] == 3
    assert people.rev_a.get("/api/v1/verification/due?unit=RSJ").status_code == 403
    assert people.operator.get("/api/v1/verification/due").status_code == 403
    assert people.rev_a.get("/api/v1/verification/due?within_days=30").json["total"] == 0  # not coming due yet

    people.rev_a.post(f"/api/v1/knowledge/{a1}/verify", json={})
    assert [i["entry_id"] for i in people.maint_a.get("/api/v1/verification/due").json["items"]] == [a2]
    clock.set("2027-12-10T09:00:00+08:00")
    assert people.rev_a.get("/api/v1/verification/due?within_days=30").json["total"] == 1


def test_the_scheduler_opens_one_verification_task_per_outstanding_entry_near_the_cycle_end(people, clock, context):
    a1, a2 = published_entry(people), published_entry(people, question="居住证多久办好？")
    clock.set("2027-06-01T09:00:00+08:00")
    assert jobs.open_verification_tasks(context)["opened"] == 0  # the cycle ends in more than 30 days

    clock.set("2027-12-01T09:00:00+08:00")
    assert jobs.open_verification_tasks(context) == {"opened": 2}
    assert jobs.open_verification_tasks(context) == {"opened": 0}
    tasks = people.rev_a.get("/api/v1/tasks?source=yearly_verification").json["items"]
    assert [t["entry_id"] for t in tasks] == [a1, a2]
    assert tasks[0]["cycle_ends_on"] == "2027-12-31" and tasks[0]["due_at"] == "2027-12-15T23:59:59+08:00"
    assert people.rev_a.get("/api/v1/verification/due").json["items"][0]["task_id"] == tasks[0]["id"]

    clock.set("2027-12-03T09:00:00+08:00")
    r = people.rev_a.post(f"/api/v1/knowledge/{a1}/verify", json={})
    assert r.json["resolved_task_ids"] == [tasks[0]["id"]]
    done = people.rev_a.get(f"/api/v1/tasks/{tasks[0]['id']}").json
    assert done["state"] == "resolved" and done["on_time"] is True and done["resolved_version"] == 1

    modify = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "modify", "entry_id": a2, "base_version": 1, "proposal": {"answer": "1. 七个工作日。"}}).json
    publish(people, modify)  # an update counts as this cycle's verification
    done = people.rev_a.get(f"/api/v1/tasks/{tasks[1]['id']}").json
    assert done["state"] == "resolved" and done["resolved_version"] == 2
    assert jobs.open_verification_tasks(context) == {"opened": 0}
