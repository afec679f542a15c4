"""Withdrawing knowledge closes its open tasks in the same step: nothing is left that can never be fixed."""
from __future__ import annotations

from kb import jobs
from kb.jobs import JobContext
from tests.api.test_tasks_api import feedback, fix, publish, published_entry, submit_and_approve

WITHDRAWN = "知识已下架，任务随之办结"


def _task(people, task_id):
    return people.office.get(f"/api/v1/tasks/{task_id}").json


def test_withdrawing_an_expired_notice_resolves_its_open_tasks_as_of_the_withdrawal(people, world, clock):
    notice = published_entry(people, question="国庆期间政务服务大厅调整办公时间的通知",
                             category_id=people.categories["通知公告"], expires_on="2026-11-05")
    waiting = feedback(people, notice)  # due Mon 2026-11-09
    being_fixed = feedback(people, notice, reason="incomplete")
    draft = fix(people, being_fixed)
    contested = feedback(people, notice, reason="other", detail="时间写错")
    people.maint_a.post(f"/api/v1/tasks/{contested['id']}/decline", json={"justification": "时间无误"})
    r = people.office.post("/api/v1/tasks", json={"source": "city_notice", "entry_id": notice, "detail": "市级通知"})
    already_late = r.json  # due Wed 2026-11-04
    clock.set("2026-11-06T00:30:00+08:00")

    jobs.run_job("withdraw_expired_notices", JobContext(uow_factory=world.uow, clock=clock))

    for task in (waiting, being_fixed, contested, already_late):
        done = _task(people, task["id"])
        assert done["state"] == "resolved" and done["resolved_at"] == "2026-11-06T00:30:00+08:00"
        assert done["resolved_version"] is None
        assert done["events"][-1]["kind"] == "resolved" and done["events"][-1]["note"] == WITHDRAWN
    assert _task(people, waiting["id"])["outcome"] == "resolved_on_time"
    assert _task(people, already_late["id"])["outcome"] == "resolved_late"
    audit = people.office.get(f"/api/v1/audit-events?action=task.resolve&object_id={waiting['id']}").json["items"]
    assert audit[0]["actor_id"] is None and audit[0]["after"]["note"] == WITHDRAWN
    # The fix in flight is left as it was; nothing is overdue against the unit later.
    assert people.maint_a.get(f"/api/v1/change-requests/{draft['id']}").json["state"] == "draft"
    clock.set("2026-11-20T09:00:00+08:00")
    assert jobs.mark_overdue(JobContext(uow_factory=world.uow, clock=clock)) == {"marked": 0}
    assert people.office.get("/api/v1/tasks?state=active").json["total"] == 0
    assert people.maint_a.get("/api/v1/inbox").json["counts"]["tasks_overdue"] == 0


def test_publishing_a_deletion_resolves_every_open_task_of_the_entry(people, clock):
    entry_id = published_entry(people)
    unrelated = published_entry(people, question="居住证多久能办好？")
    waiting = feedback(people, entry_id)
    being_fixed = feedback(people, entry_id, reason="incomplete")
    modification = fix(people, being_fixed)
    submit_and_approve(people, modification)
    deletion_task = feedback(people, entry_id, reason="cites_repealed", detail="依据已废止")
    other_entry_task = feedback(people, unrelated)
    deletion = people.maint_a.post(f"/api/v1/tasks/{deletion_task['id']}/change-requests",
                                   json={"kind": "delete", "base_version": 1, "reason": "政策已废止"}).json
    clock.set("2026-11-12T10:00:00+08:00")  # after the five working days

    publish(people, deletion)

    fixed_by_deletion = _task(people, deletion_task["id"])
    assert fixed_by_deletion["state"] == "resolved"
    assert fixed_by_deletion["events"][-1]["note"] == f"变更申请 {deletion['id']} 已发布"
    for task in (waiting, being_fixed):
        done = _task(people, task["id"])
        assert done["state"] == "resolved" and done["resolved_at"] == "2026-11-12T10:00:00+08:00"
        assert done["outcome"] == "resolved_late" and done["events"][-1]["note"] == WITHDRAWN
    assert _task(people, other_entry_task["id"])["state"] == "open"
    # The modification still in flight stays where it was, and can no longer be published.
    assert people.office.get(f"/api/v1/change-requests/{modification['id']}").json["state"] == "office_review"
    r = people.office.post(f"/api/v1/change-requests/{modification['id']}/office-review",
                           json={"decision": "publish"})
    assert r.status_code == 409
