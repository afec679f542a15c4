"""Flags and the inbox: everyone sees what needs them, and whoever raised something sees what became of it."""
from __future__ import annotations

import pytest

from kb import jobs
from kb.jobs import JobContext

from tests.api.test_tasks_api import feedback, fix, publish, published_entry, submit_and_approve


def flag(people, entry_id, kind="wrong_answer", text="社区服务中心已搬迁，地址过时"):
    r = people.operator.post(f"/api/v1/knowledge/{entry_id}/flags", json={"kind": kind, "text": text})
    assert r.status_code == 201, r.json
    return r.json


def test_a_flag_turned_into_a_task_closes_the_loop_when_the_fix_is_published(people):
    entry_id = published_entry(people)
    raised = flag(people, entry_id)
    assert raised["fate"] == "pending" and raised["fate_label"] == "待热线办处理"
    office_inbox = people.office.get("/api/v1/inbox").json
    assert [f["id"] for f in office_inbox["flags_to_triage"]] == [raised["id"]]

    r = people.office.post(f"/api/v1/flags/{raised['id']}/triage", json={"decision": "task", "reason": "请核实新地址"})
    assert r.status_code == 200 and r.json["state"] == "accepted" and r.json["task_id"]
    task = people.maint_a.get(f"/api/v1/tasks/{r.json['task_id']}").json
    assert task["source"] == "operator_suggestion" and task["entry_id"] == entry_id
    assert "社区服务中心已搬迁" in task["detail"] and "请核实新地址" in task["detail"]
    assert people.operator.get("/api/v1/inbox").json["my_flags"][0]["fate"] == "in_task"
    assert people.office.get("/api/v1/inbox").json["flags_to_triage"] == []

    publish(people, fix(people, task))
    mine = people.operator.get("/api/v1/inbox").json["my_flags"]
    assert mine[0]["fate"] == "fixed" and mine[0]["fate_label"] == "已在第 2 版修正"
    assert mine[0]["fixed_in_version"] == 2
    assert people.operator.get(f"/api/v1/flags/{raised['id']}").json["fate_label"] == "已在第 2 版修正"


def test_a_dismissed_flag_shows_its_author_the_reason(people):
    raised = flag(people, published_entry(people), kind="suggestion", text="建议补充办理时限")
    assert people.office.post(f"/api/v1/flags/{raised['id']}/triage", json={"decision": "dismiss"}).status_code == 422
    r = people.office.post(f"/api/v1/flags/{raised['id']}/triage",
                           json={"decision": "dismiss", "reason": "办理时限已在第三条写明"})
    assert r.json["state"] == "dismissed" and r.json["task_id"] is None
    mine = people.operator.get("/api/v1/inbox").json["my_flags"]
    assert mine[0]["fate"] == "dismissed" and mine[0]["fate_label"] == "未采纳：办理时限已在第三条写明"
    again = people.office.post(f"/api/v1/flags/{raised['id']}/triage", json={"decision": "task"})
    assert again.status_code == 409


def test_a_flag_whose_task_the_office_lets_the_unit_decline_says_so(people):
    raised = flag(people, published_entry(people))
    task_id = people.office.post(f"/api/v1/flags/{raised['id']}/triage", json={"decision": "task"}).json["task_id"]
    people.maint_a.post(f"/api/v1/tasks/{task_id}/decline", json={"justification": "地址未变，话务员看错了"})
    people.office.post(f"/api/v1/tasks/{task_id}/decline-ruling", json={"accept": True})
    mine = people.operator.get("/api/v1/flags").json["items"][0]
    assert mine["fate"] == "declined" and "地址未变" in mine["fate_label"]


def test_flags_are_raised_by_operators_on_live_knowledge_and_triaged_by_the_office(people):
    entry_id = published_entry(people)
    for caller in ("maint_a", "rev_a", "office", "scorer"):
        r = getattr(people, caller).post(f"/api/v1/knowledge/{entry_id}/flags",
                                         json={"kind": "suggestion", "text": "x"})
        assert r.status_code == 403, caller
    assert people.operator.post("/api/v1/knowledge/999999/flags",
                                json={"kind": "suggestion", "text": "x"}).status_code == 404
    assert people.operator.post(f"/api/v1/knowledge/{entry_id}/flags",
                                json={"kind": "rumour", "text": "x"}).status_code == 422
    assert people.operator.post(f"/api/v1/knowledge/{entry_id}/flags",
                                json={"kind": "suggestion", "text": "   "}).status_code == 422
    raised = flag(people, entry_id)
    for caller in ("operator", "maint_a", "rev_a", "scorer"):
        r = getattr(people, caller).post(f"/api/v1/flags/{raised['id']}/triage", json={"decision": "task"})
        assert r.status_code == 403 and "热线办" in r.json["message"]
    assert people.office.post("/api/v1/flags/999999/triage", json={"decision": "task"}).status_code == 404


def test_who_sees_which_flags(people):
    raised = flag(people, published_entry(people))
    assert people.office.get("/api/v1/flags?state=pending").json["total"] == 1
    assert people.maint_a.get("/api/v1/flags").json["total"] == 1  # on its unit's knowledge
    assert people.maint_b.get("/api/v1/flags").json["total"] == 0
    assert people.maint_b.get(f"/api/v1/flags/{raised['id']}").status_code == 403
    assert people.scorer.get("/api/v1/flags").status_code == 403


def test_another_operator_does_not_see_my_flags(people, world):
    raised = flag(people, published_entry(people))
    _, token = world.make_user("operator")
    other = people.operator.__class__(people.operator.client, token)
    assert other.get("/api/v1/flags").json["total"] == 0
    assert other.get("/api/v1/inbox").json["my_flags"] == []
    assert other.get(f"/api/v1/flags/{raised['id']}").status_code == 403


def test_each_role_finds_the_reviews_waiting_for_it(people):
    draft = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": {
        "question": "如何办理居住证？", "answer": "1. 登记。", "category_id": people.categories["社会民生"],
        "effective_on": "2026-01-01"}}).json
    assert [c["id"] for c in people.maint_a.get("/api/v1/inbox").json["change_requests"]] == [draft["id"]]
    assert people.maint_b.get("/api/v1/inbox").json["change_requests"] == []
    people.maint_a.post(f"/api/v1/change-requests/{draft['id']}/submit", json={})
    assert [c["id"] for c in people.rev_a.get("/api/v1/inbox").json["change_requests"]] == [draft["id"]]
    assert people.rev_b.get("/api/v1/inbox").json["change_requests"] == []
    people.rev_a.post(f"/api/v1/change-requests/{draft['id']}/unit-review",
                      json={"approve": False, "checks": {"no_typos": False, "clear": True, "answer_matches": True,
                                                         "accurate_with_basis": True}})
    returned = people.maint_a.get("/api/v1/inbox").json["change_requests"]
    assert returned[0]["state"] == "returned" and returned[0]["return_reason"]
    submit_and_approve(people, {"id": draft["id"]})
    inbox = people.office.get("/api/v1/inbox").json
    assert [c["id"] for c in inbox["change_requests"]] == [draft["id"]]
    assert inbox["counts"]["change_requests"] == 1


def test_tasks_show_up_as_open_due_soon_and_overdue_with_reminders_for_their_unit(people, world, clock):
    context = JobContext(uow_factory=world.uow, clock=clock)
    entry_id = published_entry(people)
    task = feedback(people, entry_id)  # due Mon 2026-11-09
    inbox = people.maint_a.get("/api/v1/inbox").json
    assert [t["id"] for t in inbox["tasks_open"]] == [task["id"]]
    assert inbox["tasks_due_soon"] == inbox["tasks_overdue"] == [] and inbox["my_tasks"] == []
    assert people.maint_b.get("/api/v1/inbox").json["tasks_open"] == []
    assert [t["id"] for t in people.office.get("/api/v1/inbox").json["my_tasks"]] == [task["id"]]

    clock.set("2026-11-06T09:00:00+08:00")  # Friday: Monday is the next working day
    inbox = people.rev_a.get("/api/v1/inbox").json
    assert [t["id"] for t in inbox["tasks_due_soon"]] == [task["id"]]
    assert people.rev_b.get("/api/v1/inbox").json["tasks_due_soon"] == []
    jobs.remind_due_soon(context)
    reminders = people.rev_a.get("/api/v1/inbox").json["reminders"]
    assert [(r["task_id"], r["kind"]) for r in reminders] == [(task["id"], "due_soon")]
    assert "即将到期" in reminders[0]["message"]
    assert people.rev_b.get("/api/v1/inbox").json["reminders"] == []

    clock.set("2026-11-10T09:00:00+08:00")
    jobs.mark_overdue(context)
    inbox = people.maint_a.get("/api/v1/inbox").json
    assert [t["id"] for t in inbox["tasks_overdue"]] == [task["id"]]
    assert {r["kind"] for r in inbox["reminders"]} == {"due_soon", "overdue"}
    office = people.office.get("/api/v1/inbox").json
    assert [t["id"] for t in office["tasks_overdue"]] == [task["id"]]
    assert [r["kind"] for r in office["reminders"]] == ["overdue"]

    people.maint_a.post(f"/api/v1/tasks/{task['id']}/decline", json={"justification": "不属于本单位"})
    assert [t["id"] for t in people.office.get("/api/v1/inbox").json["declines_to_rule"]] == [task["id"]]


def test_unit_roles_see_how_many_entries_await_this_cycles_verification(people, clock):
    published_entry(people)
    assert people.rev_a.get("/api/v1/inbox").json["verification_due"]["entries"] == 0
    clock.set("2027-01-04T09:00:00+08:00")
    due = people.rev_a.get("/api/v1/inbox").json["verification_due"]
    assert due == {"cycle_ends_on": "2027-12-31", "entries": 1}
    assert people.office.get("/api/v1/inbox").json["verification_due"] is None


@pytest.mark.parametrize("caller, status", [("scorer", 403), ("operator", 200), ("maint_b", 200)])
def test_the_inbox_is_for_people_who_act(people, caller, status):
    assert getattr(people, caller).get("/api/v1/inbox").status_code == status
    assert people.anonymous.get("/api/v1/inbox").status_code == 401


def test_the_office_sees_the_tasks_of_every_unit_that_are_due_within_one_working_day(people, clock):
    due_monday_a = feedback(people, published_entry(people))  # due Mon 2026-11-09
    due_monday_b = feedback(people, published_entry(people, unit="b", question="社保卡丢了怎么补办？"))
    clock.set("2026-11-04T09:00:00+08:00")
    later = feedback(people, published_entry(people, question="居住证多久能办好？"))  # due Wed 2026-11-11
    assert people.office.get("/api/v1/inbox").json["tasks_due_soon"] == []

    clock.set("2026-11-06T09:00:00+08:00")  # Friday: Monday is the next working day
    inbox = people.office.get("/api/v1/inbox").json
    assert [t["id"] for t in inbox["tasks_due_soon"]] == [due_monday_a["id"], due_monday_b["id"]]
    assert {t["unit_code"] for t in inbox["tasks_due_soon"]} == {"HX", "RSJ"}
    assert inbox["counts"]["tasks_due_soon"] == 2 and later["id"] not in {t["id"] for t in inbox["tasks_due_soon"]}
    assert [t["id"] for t in people.rev_a.get("/api/v1/inbox").json["tasks_due_soon"]] == [due_monday_a["id"]]

    clock.set("2026-11-10T09:00:00+08:00")  # overdue now: listed as overdue, no longer as due soon
    inbox = people.office.get("/api/v1/inbox").json
    assert {t["id"] for t in inbox["tasks_overdue"]} == {due_monday_a["id"], due_monday_b["id"]}
    assert [t["id"] for t in inbox["tasks_due_soon"]] == [later["id"]]
