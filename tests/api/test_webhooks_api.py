"""Webhook subscriptions over HTTP: the office manages them, the secret is shown once, deliveries can be replayed."""
from __future__ import annotations

import pytest

from kb.services import webhooks

URL = "https://scoring.example.cn/hooks/kb"


def subscribe(people, **fields):
    body = {"url": URL, "events": ["score.changed", "period.closed"], "description": "南康区考核引擎", **fields}
    r = people.office.post("/api/v1/webhooks", json=body)
    assert r.status_code == 201, r.json
    return r.json


def emit(world, clock, event="score.changed") -> list[int]:
    with world.uow() as uow:
        ids = webhooks.enqueue(uow.session, event, {"profile": "nankang-2023", "unit_code": "HX"}, clock())
        uow.commit()
    return ids


def assert_error(response, status, code=None):
    assert response.status_code == status, response.json
    body = response.json
    assert body["status"] == status and body["code"] and body["message"]
    if code:
        assert body["code"] == code
    return body


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_creating_a_subscription_shows_its_secret_once(people):
    sub = subscribe(people)
    assert sub["url"] == URL and sub["active"] is True and sub["description"] == "南康区考核引擎"
    assert sub["events"] == ["period.closed", "score.changed"]  # one of each, documented order
    assert sub["event_labels"][0].startswith("考核") and len(sub["secret"]) >= 40
    assert sub["created_by"] == people.office.actor.user_id

    shown = people.office.get(f"/api/v1/webhooks/{sub['id']}").json
    assert "secret" not in shown and shown["id"] == sub["id"]
    listed = people.office.get("/api/v1/webhooks").json["items"]
    assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]
    audit = people.office.get("/api/v1/audit-events", query_string={"object_type": "webhook_subscription"}).json["items"]
    assert audit and sub["secret"] not in str(audit)


def test_a_secret_given_by_the_office_is_kept(people):
    sub = subscribe(people, secret="whsec-nankang-0001-0002")
    assert sub["secret"] == "whsec-nankang-0001-0002"


def test_rotating_the_secret_shows_the_new_one_once(people):
    sub = subscribe(people)
    r = people.office.patch(f"/api/v1/webhooks/{sub['id']}", json={"rotate_secret": True})
    assert r.status_code == 200 and r.json["secret"] and r.json["secret"] != sub["secret"]
    plain = people.office.patch(f"/api/v1/webhooks/{sub['id']}", json={"description": "改名"})
    assert plain.status_code == 200 and "secret" not in plain.json and plain.json["description"] == "改名"


def test_updating_url_events_and_active(people, app):
    app.config["WEBHOOK_ALLOWED_HOSTS"] = "scoring.example.cn, 10.0.0.0/8"  # an intranet receiver: listed
    sub = subscribe(people)
    r = people.office.patch(f"/api/v1/webhooks/{sub['id']}", json={
        "url": "http://10.0.0.8:8080/kb", "events": ["task.overdue"], "active": False, "description": None})
    assert r.status_code == 200, r.json
    assert (r.json["url"], r.json["events"], r.json["active"], r.json["description"]) == (
        "http://10.0.0.8:8080/kb", ["task.overdue"], False, None)
    assert [s["id"] for s in people.office.get("/api/v1/webhooks", query_string={"active": "false"}).json["items"]] == [
        sub["id"]]
    assert people.office.get("/api/v1/webhooks", query_string={"active": "true"}).json["items"] == []


@pytest.mark.parametrize("fields, field", [
    ({"url": "ftp://scoring.example.cn/hooks"}, "url"),
    ({"url": "scoring.example.cn/hooks"}, "url"),
    ({"url": "https://"}, "url"),
    ({"url": "https://exa mple.cn/x"}, "url"),
    ({"events": []}, "events"),
    ({"events": ["score.published"]}, "events"),
    ({"events": "score.changed"}, "events"),
    ({"secret": "short"}, "secret"),
    ({"unknown": 1}, "unknown"),
])
def test_bad_input_is_a_422_naming_the_field(people, fields, field):
    body = {"url": URL, "events": ["score.changed"], **fields}
    error = assert_error(people.office.post("/api/v1/webhooks", json=body), 422, "validation_failed")
    assert field in error["errors"] and _chinese(error["message"])
    assert people.office.get("/api/v1/webhooks").json["items"] == []


def test_domain_checks_explain_themselves_in_chinese(people):
    error = assert_error(people.office.post("/api/v1/webhooks", json={"url": "ftp://x.cn/", "events": ["task.overdue"]}),
                         422)
    assert _chinese(error["errors"]["url"])
    error = assert_error(people.office.post("/api/v1/webhooks", json={"url": URL, "events": ["nope"]}), 422)
    assert _chinese(error["errors"]["events"])


def test_missing_fields_malformed_json_and_unknown_ids(people):
    assert_error(people.office.post("/api/v1/webhooks", json={"events": ["task.overdue"]}), 422)
    assert_error(people.office.post("/api/v1/webhooks", data="{url:", headers={"Content-Type": "application/json"}),
                 400)
    sub = subscribe(people)
    assert_error(people.office.patch(f"/api/v1/webhooks/{sub['id']}", json={"url": "mailto:a@b.cn"}), 422)
    assert_error(people.office.patch(f"/api/v1/webhooks/{sub['id']}", json={"secret": "x" * 20}), 422)
    assert_error(people.office.get("/api/v1/webhooks/99999"), 404, "webhook_subscription_not_found")
    assert_error(people.office.patch("/api/v1/webhooks/99999", json={}), 404)
    assert_error(people.office.delete("/api/v1/webhooks/99999"), 404)
    assert_error(people.office.get("/api/v1/webhooks/99999/deliveries"), 404)
    assert_error(people.office.get("/api/v1/webhooks/deliveries/99999"), 404, "webhook_delivery_not_found")
    assert_error(people.office.post("/api/v1/webhooks/deliveries/99999/replay"), 404)
    assert_error(people.office.get("/api/v1/webhooks/deliveries", query_string={"state": "lost"}), 422)


def test_deliveries_are_listed_shown_with_their_body_and_replayed(people, world, clock):
    sub = subscribe(people)
    [delivery_id] = emit(world, clock)
    page = people.office.get(f"/api/v1/webhooks/{sub['id']}/deliveries").json
    assert page["total"] == 1 and page["items"][0]["id"] == delivery_id
    assert page["items"][0]["state"] == "pending" and "body" not in page["items"][0]
    assert people.office.get("/api/v1/webhooks/deliveries", query_string={"state": "delivered"}).json["total"] == 0

    shown = people.office.get(f"/api/v1/webhooks/deliveries/{delivery_id}").json
    assert shown["event"] == "score.changed" and shown["attempt_log"] == [] and len(shown["delivery_key"]) == 32
    assert '"unit_code": "HX"' in shown["body"]

    r = people.office.post(f"/api/v1/webhooks/deliveries/{delivery_id}/replay")
    assert r.status_code == 202 and r.json["state"] == "pending" and r.json["replay_requested_at"]
    assert r.json["delivery_key"] == shown["delivery_key"]


def test_deleting_a_subscription_deactivates_it_cancels_what_waits_and_keeps_the_log(people, world, clock):
    sub = subscribe(people)
    [delivery_id] = emit(world, clock)
    r = people.office.delete(f"/api/v1/webhooks/{sub['id']}")
    assert r.status_code == 200 and r.json["active"] is False and r.json["cancelled_deliveries"] == 1
    assert people.office.get(f"/api/v1/webhooks/{sub['id']}").json["active"] is False
    kept = people.office.get(f"/api/v1/webhooks/deliveries/{delivery_id}").json
    assert kept["state"] == "failed" and _chinese(kept["last_error"])
    assert emit(world, clock) == []  # nothing new for an inactive subscription
    error = assert_error(people.office.post(f"/api/v1/webhooks/deliveries/{delivery_id}/replay"), 409,
                         "webhook_subscription_inactive")
    assert _chinese(error["message"])


ROLES = ("operator", "maint_a", "rev_a", "maint_b", "rev_b", "scorer")


def _endpoints(sub_id: int, delivery_id: int):
    return [
        ("get", "/api/v1/webhooks", None),
        ("post", "/api/v1/webhooks", {"url": URL, "events": ["task.overdue"]}),
        ("get", f"/api/v1/webhooks/{sub_id}", None),
        ("patch", f"/api/v1/webhooks/{sub_id}", {"rotate_secret": True}),
        ("get", f"/api/v1/webhooks/{sub_id}/deliveries", None),
        ("get", "/api/v1/webhooks/deliveries", None),
        ("get", f"/api/v1/webhooks/deliveries/{delivery_id}", None),
        ("post", f"/api/v1/webhooks/deliveries/{delivery_id}/replay", None),
        ("delete", f"/api/v1/webhooks/{sub_id}", None),
    ]


def test_only_the_office_may_touch_webhooks(people, world, clock, app):
    sub = subscribe(people)
    [delivery_id] = emit(world, clock)
    endpoints = _endpoints(sub["id"], delivery_id)
    spec = app.test_client().get("/openapi.json").json
    documented = {(m, p) for p, ops in spec["paths"].items() if p.startswith("/api/v1/webhooks") for m in ops
                  if m in ("get", "post", "put", "patch", "delete")}
    assert len(documented) == len(endpoints)  # every endpoint of the resource is in this matrix
    for role in ROLES:
        caller = getattr(people, role)
        for method, url, body in endpoints:
            kwargs = {"json": body} if body is not None else {}
            error = assert_error(getattr(caller, method)(url, **kwargs), 403, "forbidden")
            assert _chinese(error["message"]), (role, method, url)
    for method, url, _ in endpoints:
        assert_error(getattr(people.anonymous, method)(url), 401)
    after = people.office.get(f"/api/v1/webhooks/{sub['id']}").json
    assert after["active"] is True and after["updated_at"] == sub["updated_at"]
    assert len(people.office.get("/api/v1/webhooks").json["items"]) == 1
    for method, url, body in endpoints:  # and the office may
        kwargs = {"json": body} if body is not None else {}
        assert getattr(people.office, method)(url, **kwargs).status_code < 300, (method, url)


def test_with_an_allow_list_only_its_hosts_can_be_subscribed(people, app):
    app.config["WEBHOOK_ALLOWED_HOSTS"] = "*.example.cn, 10.0.0.0/8"
    sub = subscribe(people)  # scoring.example.cn
    for url in ("https://example.cn.evil.com/hooks", "http://127.0.0.1:6379/", "http://[::1]/hooks",
                "https://scoring.example.com/hooks"):
        error = assert_error(people.office.post("/api/v1/webhooks", json={"url": url, "events": ["task.overdue"]}),
                             422, "validation_failed")
        assert "KB_WEBHOOK_ALLOWED_HOSTS" in error["errors"]["url"] and _chinese(error["errors"]["url"]), url
    error = assert_error(people.office.patch(f"/api/v1/webhooks/{sub['id']}", json={"url": "http://192.168.1.5/"}),
                         422)
    assert "192.168.1.5" in error["errors"]["url"]
    assert [s["url"] for s in people.office.get("/api/v1/webhooks").json["items"]] == [URL]  # nothing stored or changed
    moved = people.office.patch(f"/api/v1/webhooks/{sub['id']}", json={"url": "http://10.0.0.8:8080/kb"})
    assert moved.status_code == 200 and moved.json["url"] == "http://10.0.0.8:8080/kb"
    app.config["WEBHOOK_ALLOWED_HOSTS"] = None  # unset: any public host, as before (loopback: test_webhook_ssrf.py)
    assert subscribe(people, url="http://1.2.3.4:9000/hooks")["url"] == "http://1.2.3.4:9000/hooks"


def test_a_bad_allow_list_entry_stops_the_service_at_startup(engine, session_factory, clock, tmp_path):
    from service.app import create_app

    with pytest.raises(ValueError, match="KB_WEBHOOK_ALLOWED_HOSTS"):
        create_app({"ENGINE": engine, "SESSION_FACTORY": session_factory, "CLOCK": clock,
                    "INDEX_DIR": str(tmp_path / "index"), "WEBHOOK_ALLOWED_HOSTS": "10.0.0.0/33"})


def test_the_database_holds_the_secrets_only_sealed_with_the_services_key(people, world, app):
    from sqlalchemy import select

    from kb.models import WebhookSubscription

    given = subscribe(people, secret="whsec-nankang-0001-0002")
    rotated = people.office.patch(f"/api/v1/webhooks/{subscribe(people)['id']}", json={"rotate_secret": True}).json
    with world.uow(write=False) as uow:
        stored = dict(uow.session.execute(select(WebhookSubscription.id, WebhookSubscription.sealed_secret)).all())
    box = app.extensions["kb.settings"].secret_box
    for sub in (given, rotated):
        assert sub["secret"] not in stored[sub["id"]]  # what a dump or a backup of the database shows
        assert box.open(stored[sub["id"]]) == sub["secret"]
