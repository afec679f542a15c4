"""Correction tasks through HTTP: opened, linked, resolved only by publication, declined by agreement."""
from __future__ import annotations

from datetime import date

import pytest

from tests.api.test_workflow_api import ALL_PASS
from tests.support.factories import World


def published_entry(people, unit="a", **proposal) -> int:
    """A published entry of unit A (or B), carried through the workflow's use cases."""
    ctx = people.office.client.application.extensions["kb"]
    maint, rev = getattr(people, f"maint_{unit}"), getattr(people, f"rev_{unit}")
    fields = {"question": "办理居住证需要哪些材料？", "answer": "1. 身份证；\n2. 居住证明。", "policy_number": None,
              "category_id": people.categories["社会民生"], **proposal}
    for name in ("effective_on", "expires_on"):
        if isinstance(fields.get(name), str):
            fields[name] = date.fromisoformat(fields[name])
    cr = World(ctx.session_factory, ctx.clock).publish_new(maint.actor, rev.actor, people.office.actor,
                                                          fields.pop("category_id"), **fields)
    return cr.entry_id


def submit_and_approve(people, cr, unit="a"):
    r = getattr(people, f"maint_{unit}").post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    assert r.status_code == 200, r.json
    r = getattr(people, f"rev_{unit}").post(f"/api/v1/change-requests/{cr['id']}/unit-review",
                                            json={"approve": True, "checks": ALL_PASS})
    assert r.status_code == 200, r.json
    return r.json


def publish(people, cr, unit="a"):
    submit_and_approve(people, cr, unit)
    r = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review", json={"decision": "publish"})
    assert r.status_code == 200, r.json
    return r.json


def feedback(people, entry_id, reason="unclear", detail="答案未写明办理地点"):
    r = people.office.post("/api/v1/tasks", json={"source": "office_feedback", "entry_id": entry_id,
                                                  "reason": reason, "detail": detail})
    assert r.status_code == 201, r.json
    return r.json


def fix(people, task, answer="1. 身份证；\n2. 居住证明；\n3. 办理地点：社区服务中心。", unit="a"):
    """Draft the fix from the task (linked at once)."""
    r = getattr(people, f"maint_{unit}").post(f"/api/v1/tasks/{task['id']}/change-requests",
                                              json={"proposal": {"answer": answer}, "base_version": 1})
    assert r.status_code == 201, r.json
    return r.json


def test_office_feedback_is_due_in_five_working_days_for_the_entrys_unit(people, clock):
    entry_id = published_entry(people)
    task = feedback(people, entry_id, reason="incomplete")
    assert task["unit_code"] == "HX" and task["entry_id"] == entry_id
    assert task["source_label"] == "热线办反馈" and task["reason_label"] == "内容不完整"
    assert task["received_at"] == "2026-11-02T10:00:00+08:00"
    assert task["due_at"] == "2026-11-09T23:59:59+08:00" and task["provisional"] is False
    assert task["state"] == "open" and task["outcome"] == "open" and task["working_days"] == 5
    assert task["entry_question"] == "办理居住证需要哪些材料？"


def test_feedback_names_one_of_the_offices_reasons(people):
    entry_id = published_entry(people)
    for reason in (None, "wrong"):
        r = people.office.post("/api/v1/tasks", json={"source": "office_feedback", "entry_id": entry_id,
                                                      "reason": reason, "detail": "x"})
        assert r.status_code == 422 and "reason" in r.json["errors"]


def test_a_task_resolves_only_when_its_change_is_published_and_records_it_on_time(people, clock):
    entry_id = published_entry(people)
    task = feedback(people, entry_id)
    cr = fix(people, task)
    assert cr["kind"] == "modify" and cr["entry_id"] == entry_id
    linked = people.maint_a.get(f"/api/v1/tasks/{task['id']}").json
    assert linked["state"] == "in_progress" and linked["change_request_id"] == cr["id"]

    submit_and_approve(people, cr)  # submitted and approved by the unit: still not fixed for operators
    assert people.maint_a.get(f"/api/v1/tasks/{task['id']}").json["state"] == "in_progress"

    clock.set("2026-11-06T15:00:00+08:00")
    people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review", json={"decision": "publish"})
    done = people.maint_a.get(f"/api/v1/tasks/{task['id']}").json
    assert done["state"] == "resolved" and done["resolved_version"] == 2
    assert done["resolved_at"] == "2026-11-06T15:00:00+08:00"
    assert done["on_time"] is True and done["outcome"] == "resolved_on_time"
    assert [e["kind"] for e in done["events"]] == ["opened", "linked", "resolved"]


def test_a_fix_published_after_the_deadline_is_recorded_late(people, clock):
    entry_id = published_entry(people)
    task = feedback(people, entry_id)
    cr = fix(people, task)
    clock.set("2026-11-10T00:00:00+08:00")  # a second after 2026-11-09 23:59:59
    assert people.office.get("/api/v1/tasks?overdue=true").json["total"] == 1
    assert people.office.get(f"/api/v1/tasks/{task['id']}").json["outcome"] == "open_overdue"
    publish(people, cr)
    done = people.office.get(f"/api/v1/tasks/{task['id']}").json
    assert done["on_time"] is False and done["outcome"] == "resolved_late"
    assert people.office.get("/api/v1/tasks?overdue=true").json["total"] == 0


def test_publishing_at_the_last_second_of_the_due_day_is_on_time(people, clock):
    task = feedback(people, published_entry(people))
    cr = fix(people, task)
    clock.set("2026-11-09T23:59:59.900000+08:00")
    publish(people, cr)
    assert people.office.get(f"/api/v1/tasks/{task['id']}").json["on_time"] is True


def test_an_existing_change_request_can_be_linked_and_must_fit_the_task(people):
    entry_id, other_entry = published_entry(people), published_entry(people, question="居住证多久能办好？")
    task = feedback(people, entry_id)
    other = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "modify", "entry_id": other_entry, "base_version": 1, "proposal": {"answer": "1. 七个工作日。"}}).json
    r = people.maint_a.post(f"/api/v1/tasks/{task['id']}/link", json={"change_request_id": other["id"]})
    assert r.status_code == 422 and "change_request_id" in r.json["errors"]
    suggestion = people.maint_a.post("/api/v1/change-requests", json={"kind": "suggestion", "reason": "建议"}).json
    assert people.maint_a.post(f"/api/v1/tasks/{task['id']}/link",
                               json={"change_request_id": suggestion["id"]}).status_code == 422
    assert people.maint_a.post(f"/api/v1/tasks/{task['id']}/link",
                               json={"change_request_id": 999999}).status_code == 404

    right = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "modify", "entry_id": entry_id, "base_version": 1, "proposal": {"answer": "1. 身份证。"}}).json
    r = people.maint_a.post(f"/api/v1/tasks/{task['id']}/link", json={"change_request_id": right["id"]})
    assert r.status_code == 200 and r.json["state"] == "in_progress" and r.json["change_request_state"] == "draft"
    publish(people, right)
    assert people.maint_a.get(f"/api/v1/tasks/{task['id']}").json["state"] == "resolved"


def test_linking_a_change_published_after_receipt_resolves_the_task_at_that_publication(people, clock):
    entry_id = published_entry(people)
    task = feedback(people, entry_id)
    cr = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "modify", "entry_id": entry_id, "base_version": 1, "proposal": {"answer": "1. 身份证。"}}).json
    clock.set("2026-11-03T09:00:00+08:00")
    publish(people, cr)
    clock.set("2026-11-20T09:00:00+08:00")
    r = people.maint_a.post(f"/api/v1/tasks/{task['id']}/link", json={"change_request_id": cr["id"]})
    assert r.json["state"] == "resolved" and r.json["resolved_at"] == "2026-11-03T09:00:00+08:00"
    assert r.json["on_time"] is True


def test_a_gap_is_filled_by_new_knowledge_drafted_from_the_task(people):
    r = people.office.post("/api/v1/tasks", json={"source": "city_notice", "unit_code": "HX",
                                                  "detail": "市级通知：新增老年人助餐补贴，请补充知识"})
    assert r.status_code == 201 and r.json["entry_id"] is None
    assert r.json["due_at"] == "2026-11-04T23:59:59+08:00"  # two working days
    task = r.json
    r = people.maint_a.post(f"/api/v1/tasks/{task['id']}/change-requests", json={"proposal": {
        "question": "老年人助餐补贴怎么申请？", "answer": "1. 向社区提出申请。",
        "category_id": people.categories["社会民生"], "effective_on": "2026-11-01"}})
    assert r.status_code == 201 and r.json["kind"] == "new"
    publish(people, r.json)
    done = people.office.get(f"/api/v1/tasks/{task['id']}").json
    assert done["state"] == "resolved" and done["resolved_version"] == 1


def test_a_failed_draft_from_a_task_leaves_neither_draft_nor_link(people):
    task = feedback(people, published_entry(people))
    r = people.maint_a.post(f"/api/v1/tasks/{task['id']}/change-requests",
                            json={"proposal": {"answer": "x"}, "base_version": 7})
    assert r.status_code == 409
    assert people.maint_a.get("/api/v1/change-requests?kind=modify").json["total"] == 0
    assert people.maint_a.get(f"/api/v1/tasks/{task['id']}").json["state"] == "open"


def test_a_unit_may_decline_with_a_justification_only_if_the_office_agrees(people):
    task = feedback(people, published_entry(people))
    assert people.maint_a.post(f"/api/v1/tasks/{task['id']}/decline", json={"justification": ""}).status_code == 422
    r = people.rev_a.post(f"/api/v1/tasks/{task['id']}/decline", json={"justification": "答案已写明办理地点"})
    assert r.json["state"] == "decline_requested"
    assert people.office.post(f"/api/v1/tasks/{task['id']}/decline-ruling",
                              json={"accept": False}).status_code == 422  # a refusal needs a reason
    r = people.office.post(f"/api/v1/tasks/{task['id']}/decline-ruling",
                           json={"accept": False, "reason": "答案中没有地址，请补充"})
    assert r.json["state"] == "open" and r.json["decline_rejection"] == "答案中没有地址，请补充"

    people.maint_a.post(f"/api/v1/tasks/{task['id']}/decline", json={"justification": "地址另见知识 12"})
    r = people.office.post(f"/api/v1/tasks/{task['id']}/decline-ruling", json={"accept": True})
    assert r.json["state"] == "declined" and r.json["outcome"] == "declined" and r.json["declined_at"]
    assert people.office.post(f"/api/v1/tasks/{task['id']}/decline-ruling",
                              json={"accept": True}).status_code == 409
    assert people.maint_a.post(f"/api/v1/tasks/{task['id']}/link", json={"change_request_id": 1}).status_code == 409


def test_a_rejected_decline_returns_a_linked_task_to_in_progress(people):
    task = feedback(people, published_entry(people))
    fix(people, task)
    people.maint_a.post(f"/api/v1/tasks/{task['id']}/decline", json={"justification": "不属于本单位"})
    r = people.office.post(f"/api/v1/tasks/{task['id']}/decline-ruling", json={"accept": False, "reason": "属于"})
    assert r.json["state"] == "in_progress"


def test_a_unit_records_an_error_it_found_itself_and_the_office_may_backdate_a_notice(people, clock):
    entry_id = published_entry(people)
    r = people.rev_a.post("/api/v1/tasks", json={"source": "unit_self_found", "entry_id": entry_id,
                                                 "reason": "电话号码已变更", "detail": "咨询电话应为 88001234"})
    assert r.status_code == 201 and r.json["unit_code"] == "HX" and r.json["reason_label"] == "电话号码已变更"
    r = people.maint_a.post("/api/v1/tasks", json={"source": "unit_self_found", "detail": "缺少办理时限的知识"})
    assert r.status_code == 201 and r.json["entry_id"] is None and r.json["unit_code"] == "HX"
    r = people.maint_a.post("/api/v1/tasks", json={"source": "unit_self_found", "detail": "x",
                                                   "received_at": "2026-10-30T09:00:00+08:00"})
    assert r.status_code == 422 and "received_at" in r.json["errors"]

    r = people.office.post("/api/v1/tasks", json={"source": "city_notice", "unit_code": "RSJ", "detail": "通知",
                                                  "received_at": "2026-10-30T09:00:00+08:00"})
    assert r.json["received_at"] == "2026-10-30T09:00:00+08:00" and r.json["due_at"] == "2026-11-03T23:59:59+08:00"
    r = people.office.post("/api/v1/tasks", json={"source": "city_notice", "unit_code": "RSJ", "detail": "通知",
                                                  "received_at": "2026-12-30T09:00:00+08:00"})
    assert r.status_code == 422


def test_an_emergency_is_due_at_the_end_of_the_same_working_day(people, clock):
    clock.set("2026-10-01T08:00:00+08:00")  # National Day
    r = people.office.post("/api/v1/tasks", json={"source": "emergency", "unit_code": "HX",
                                                  "detail": "停水通知：今日起暂停供水"})
    assert r.json["due_at"] == "2026-10-08T23:59:59+08:00" and r.json["working_days"] is None


@pytest.mark.parametrize("body, caller, status", [
    ({"source": "office_feedback", "reason": "unclear", "unit_code": "HX", "detail": "x"}, "operator", 403),
    ({"source": "office_feedback", "reason": "unclear", "unit_code": "HX", "detail": "x"}, "scorer", 403),
    ({"source": "office_feedback", "reason": "unclear", "unit_code": "HX", "detail": "x"}, "maint_a", 403),
    ({"source": "city_notice", "unit_code": "HX", "detail": "x"}, "rev_a", 403),
    ({"source": "unit_self_found", "unit_code": "RSJ", "detail": "x"}, "maint_a", 403),
    ({"source": "unit_self_found", "unit_code": "HX", "detail": "x"}, "office", 422),
    ({"source": "operator_suggestion", "unit_code": "HX", "detail": "x"}, "office", 422),
    ({"source": "yearly_verification", "unit_code": "HX", "detail": "x"}, "office", 422),
    ({"source": "city_notice", "detail": "x"}, "office", 422),
    ({"source": "city_notice", "unit_code": "NOPE", "detail": "x"}, "office", 422),
    ({"source": "city_notice", "unit_code": "HX"}, "office", 422),
    ({"source": "city_notice", "entry_id": 999999, "detail": "x"}, "office", 404),
    ({"source": "city_notice", "unit_code": "HX", "detail": "x", "extra": 1}, "office", 422),
])
def test_who_may_open_which_task(people, body, caller, status):
    r = getattr(people, caller).post("/api/v1/tasks", json=body)
    assert r.status_code == status, r.json
    if status == 403:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json["message"])


def test_a_unit_sees_and_handles_only_its_own_tasks(people):
    task_a = feedback(people, published_entry(people))
    task_b = feedback(people, published_entry(people, unit="b", question="失业金怎么领？"))
    assert [t["id"] for t in people.maint_a.get("/api/v1/tasks").json["items"]] == [task_a["id"]]
    assert [t["id"] for t in people.rev_b.get("/api/v1/tasks").json["items"]] == [task_b["id"]]
    assert people.office.get("/api/v1/tasks").json["total"] == 2
    assert people.office.get("/api/v1/tasks?unit=RSJ").json["items"][0]["id"] == task_b["id"]
    for r in (people.maint_a.get(f"/api/v1/tasks/{task_b['id']}"),
              people.maint_a.post(f"/api/v1/tasks/{task_b['id']}/link", json={"change_request_id": 1}),
              people.maint_a.post(f"/api/v1/tasks/{task_b['id']}/decline", json={"justification": "x"}),
              people.maint_a.post(f"/api/v1/tasks/{task_b['id']}/change-requests", json={})):
        assert r.status_code == 403 and "本单位" in r.json["message"]
    for caller in (people.operator, people.scorer):
        assert caller.get("/api/v1/tasks").status_code == 403
        assert caller.get(f"/api/v1/tasks/{task_a['id']}").status_code == 403
    assert people.office.post(f"/api/v1/tasks/{task_a['id']}/decline", json={"justification": "x"}).status_code == 403
    assert people.rev_a.post(f"/api/v1/tasks/{task_a['id']}/decline-ruling", json={"accept": True}).status_code == 403
    assert people.office.get("/api/v1/tasks/999999").status_code == 404


def test_task_listing_filters(people):
    entry_id = published_entry(people)
    feedback(people, entry_id)
    people.office.post("/api/v1/tasks", json={"source": "city_notice", "unit_code": "HX", "detail": "通知"})
    assert people.office.get("/api/v1/tasks?source=city_notice").json["total"] == 1
    assert people.office.get(f"/api/v1/tasks?entry_id={entry_id}").json["total"] == 1
    assert people.office.get("/api/v1/tasks?state=active").json["total"] == 2
    assert people.office.get("/api/v1/tasks?state=resolved").json["total"] == 0
    assert people.office.get("/api/v1/tasks?state=nonsense").status_code == 422
