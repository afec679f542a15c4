"""Expired notices (通知公告) leave the published knowledge base when the scheduler runs."""
from __future__ import annotations

from kb import jobs
from kb.jobs import JobContext
from tests.api.test_tasks_api import published_entry


def test_an_expired_notice_is_withdrawn_and_no_longer_listed_found_or_readable(people, world, clock):
    notices = people.categories["通知公告"]
    expired = published_entry(people, question="国庆期间政务服务大厅调整办公时间的通知", category_id=notices,
                              expires_on="2026-11-05")
    current = published_entry(people, question="冬季供暖开始时间的通知", category_id=notices, expires_on="2027-03-15")
    ordinary = published_entry(people, question="2026 年度社保缴费基数", expires_on="2026-11-05")
    clock.set("2026-11-06T00:30:00+08:00")

    result = jobs.run_job("withdraw_expired_notices", JobContext(uow_factory=world.uow, clock=clock))
    assert result.outcome == "ok" and result.counts == {"withdrawn": 1}

    listed = {e["id"] for e in people.operator.get("/api/v1/knowledge").json["items"]}
    assert expired not in listed and current in listed
    assert people.operator.get(f"/api/v1/knowledge/{expired}").status_code == 404
    office_view = {e["id"]: e for e in people.office.get("/api/v1/knowledge?include_withdrawn=true").json["items"]}
    assert office_view[expired]["status"] == "withdrawn"
    assert office_view[expired]["withdrawn_at"] == "2026-11-06T00:30:00+08:00"  # 16:30 UTC, shown at +08:00
    assert office_view[ordinary]["status"] == "published"  # only notices are withdrawn
    hits = people.operator.get("/api/v1/search", query_string={"q": "政务服务大厅办公时间"}).json["hits"]
    assert expired not in {h["entry_id"] for h in hits}
    events = people.office.get(f"/api/v1/audit-events?action=knowledge.withdraw_expired&object_id={expired}").json["items"]
    assert events[0]["actor_id"] is None and events[0]["after"]["expires_on"] == "2026-11-05"
