"""Supervision notices (督办通知, 附件3), reminder preferences and the reminders' log, through the API."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kb.models import UnitRobot

OVERDUE_ROLES = ("operator", "maint_a", "rev_a", "maint_b", "rev_b", "office", "scorer")


def _overdue_task(people, clock, unit="HX"):
    r = people.office.post("/api/v1/tasks", json={"source": "office_feedback", "reason": "incomplete",
                                                  "detail": "咨询电话已变更，请更新", "unit_code": unit})
    assert r.status_code == 201, r.json
    clock.at += timedelta(days=14)  # well past 5 working days
    return r.json["id"]


def test_the_office_issues_numbered_notices_per_year_and_the_unit_confirms(people, clock):
    first = people.office.post("/api/v1/notices", json={"task_id": _overdue_task(people, clock)})
    assert first.status_code == 201, first.json
    second = people.office.post("/api/v1/notices", json={"task_id": _overdue_task(people, clock)})
    assert (first.json["number"], second.json["number"]) == ("督（2026）1号", "督（2026）2号")
    assert first.json["unit_name"] == "华山街道办事处" and "咨询电话已变更" in first.json["detail"]
    assert first.json["working_days"] == 5 and first.json["outcome"] == "超期未办结"
    again = people.office.post("/api/v1/notices", json={"task_id": first.json["task_id"]})
    assert again.status_code == 409 and again.json["code"] == "notice_exists"
    r = people.maint_a.post(f"/api/v1/notices/{first.json['id']}/confirm", json={"reply": "已于今日更新"})
    assert r.status_code == 200 and r.json["confirmed_at"] and r.json["reply"] == "已于今日更新"
    assert people.maint_a.post(f"/api/v1/notices/{first.json['id']}/confirm", json={}).status_code == 409
    events = people.office.get(f"/api/v1/audit-events?object_type=supervision_notice&object_id={first.json['id']}")
    assert {e["action"] for e in events.json["items"]} >= {"notice.issue", "notice.confirm"}


def test_a_task_not_yet_overdue_gets_no_notice(people):
    r = people.office.post("/api/v1/tasks", json={"source": "office_feedback", "reason": "incomplete",
                                                  "detail": "x", "unit_code": "HX"})
    n = people.office.post("/api/v1/notices", json={"task_id": r.json["id"]})
    assert n.status_code == 409 and n.json["code"] == "task_not_overdue"
    assert people.office.post("/api/v1/notices", json={"task_id": 999999}).status_code == 404


def test_notices_roles(people, clock):
    notice = people.office.post("/api/v1/notices", json={"task_id": _overdue_task(people, clock)}).json
    url = f"/api/v1/notices/{notice['id']}"
    for who in ("operator", "scorer"):
        caller = getattr(people, who)
        assert caller.get("/api/v1/notices").status_code == 403
        assert caller.get(url).status_code == 403
    for who in ("maint_b", "rev_b"):  # another unit
        caller = getattr(people, who)
        assert caller.get("/api/v1/notices").json == {"items": [], "total": 0}
        assert caller.get(url).status_code == 403
        assert caller.post(url + "/confirm", json={}).status_code == 403
    for who in ("operator", "maint_a", "rev_a", "maint_b", "scorer"):
        assert getattr(people, who).post("/api/v1/notices", json={"task_id": notice["task_id"]}).status_code == 403
    assert [n["id"] for n in people.rev_a.get("/api/v1/notices").json["items"]] == [notice["id"]]
    assert people.rev_a.get(url).status_code == 200
    assert people.office.post(url + "/confirm", json={}).status_code == 403  # the unit confirms, not the office


def test_reminder_preferences_and_log_roles(people, world, app):
    for who in OVERDUE_ROLES:
        caller = getattr(people, who)
        r = caller.put("/api/v1/preferences/contact", json={"email": f"{who}@example.gov", "daily_digest": True})
        assert r.status_code == 200 and r.json == {"email": f"{who}@example.gov", "notify": True,
                                                   "daily_digest": True}
        assert caller.get("/api/v1/preferences/contact").json["email"] == f"{who}@example.gov"
        if who != "office":
            assert caller.put("/api/v1/preferences/units/HX/robot",
                              json={"channel": "wecom", "url": "https://qyapi.example/send"}).status_code == 403
            assert caller.get("/api/v1/notifications").status_code == 403
            assert caller.post("/api/v1/notifications/1/replay").status_code == 403
    bad = people.maint_a.put("/api/v1/preferences/contact", json={"email": "no-at-sign"})
    assert bad.status_code == 422 and "email" in bad.json["errors"]
    r = people.office.put("/api/v1/preferences/units/HX/robot",
                          json={"channel": "dingtalk", "url": "https://oapi.example/robot/send?access_token=x",
                                "secret": "SECxyz"})
    assert r.status_code == 200 and r.json["signed"] is True and "secret" not in r.json
    with world.uow(write=False) as uow:
        sealed = uow.session.scalar(select(UnitRobot.sealed_secret))
    assert "SECxyz" not in sealed and app.extensions["kb.settings"].secret_box.open(sealed) == "SECxyz"
    assert people.office.put("/api/v1/preferences/units/HX/robot",
                             json={"channel": "dingtalk", "url": "ftp://x"}).status_code == 422
    assert people.office.put("/api/v1/preferences/units/NOPE/robot",
                             json={"channel": None}).status_code == 404
    assert people.office.get("/api/v1/notifications").status_code == 200
    assert people.office.post("/api/v1/notifications/999/replay").status_code == 404
    assert people.anonymous.get("/api/v1/notifications").status_code == 401


def test_the_direct_answer_rate_counts_calls_answered_from_the_knowledge_base(people, world):
    entry = world.publish_new(people.maint_a.actor, people.rev_a.actor, people.office.actor,
                              people.categories["社会民生"]).entry_id
    for directly in (True, True, True, False):
        r = people.operator.post(f"/api/v1/knowledge/{entry}/usages", json={"answered_directly": directly})
        assert r.status_code == 201 and r.json["answered_directly"] is directly
    r = people.office.get("/api/v1/search/direct-rate?period=2026-11")
    assert r.status_code == 200
    assert (r.json["calls"], r.json["answered_directly"], r.json["rate"]) == (4, 3, 0.75)
    assert r.json["units"] == [{"unit_code": "HX", "unit_name": "华山街道办事处", "calls": 4, "answered_directly": 3,
                                "rate": 0.75}]
    assert people.office.get("/api/v1/search/direct-rate?period=2026-10").json["rate"] is None
    assert people.office.get("/api/v1/search/direct-rate?period=bad").status_code == 422
    for who in ("operator", "maint_a", "scorer"):
        assert getattr(people, who).get("/api/v1/search/direct-rate?period=2026-11").status_code == 403
