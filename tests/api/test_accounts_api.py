"""Accounts in the API: log-in names and passwords, deactivation, token expiry, unit edits."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kb.errors import Unauthenticated
from kb.services import accounts
from service.config import login_policy

PASSWORD = "hotline-2026"


def _make_login(people, who="operator", username="xiaoli"):
    user_id = getattr(people, who).actor.user_id
    r = people.office.put(f"/api/v1/users/{user_id}/password", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.json
    return user_id


def test_office_creates_a_user_who_can_log_in_and_the_password_is_never_shown(people):
    r = people.office.post("/api/v1/users", json={"name": "话务员小王", "role": "operator",
                                                  "username": "xiaowang", "password": PASSWORD})
    assert r.status_code == 201, r.json
    assert r.json["user"]["username"] == "xiaowang" and r.json["user"]["can_log_in"] is True
    assert "password" not in r.json["user"] and PASSWORD not in r.get_data(as_text=True)


@pytest.mark.parametrize("password, field", [("short1", "password"), ("12345678901", "password"),
                                             ("xiaowang", "password")])
def test_weak_passwords_are_refused_naming_the_field(people, password, field):
    r = people.office.post("/api/v1/users", json={"name": "小王", "role": "operator", "username": "xiaowang",
                                                  "password": password})
    assert r.status_code == 422 and field in r.json["errors"]
    assert people.office.get("/api/v1/users").json["items"][-1]["name"] != "小王"  # nothing stored


def test_a_taken_user_name_is_a_409(people):
    _make_login(people, "operator", "xiaoli")
    r = people.office.put(f"/api/v1/users/{people.scorer.actor.user_id}/password",
                          json={"username": "XiaoLi", "password": PASSWORD})
    assert r.status_code == 409 and r.json["code"] == "username_taken"


def test_deactivated_users_tokens_stop_at_once(people):
    assert people.operator.get("/api/v1/users/me").status_code == 200
    r = people.office.put(f"/api/v1/users/{people.operator.actor.user_id}/active", json={"active": False})
    assert r.status_code == 200 and r.json["active"] is False
    r = people.operator.get("/api/v1/users/me")
    assert r.status_code == 401 and r.json["code"] == "token_revoked"
    people.office.put(f"/api/v1/users/{people.operator.actor.user_id}/active", json={"active": True})
    assert people.operator.get("/api/v1/users/me").status_code == 200


def test_the_office_cannot_deactivate_itself(people):
    r = people.office.put(f"/api/v1/users/{people.office.actor.user_id}/active", json={"active": False})
    assert r.status_code == 422 and "active" in r.json["errors"]


def test_issued_tokens_show_their_expiry_and_stop_after_it(app, people, clock):
    r = people.office.post(f"/api/v1/users/{people.operator.actor.user_id}/tokens", json={"label": "平台"})
    assert r.status_code == 201
    expires = r.json["token_record"]["expires_at"]
    assert expires.startswith(str((clock() + timedelta(days=365)).date()))
    token = r.json["token"]
    client = app.test_client()
    assert client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    clock.at += timedelta(days=366)
    if app.extensions.get("kb.token_cache"):
        app.extensions["kb.token_cache"].clear()  # this process remembered the token while it was valid
    r = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json["code"] == "token_expired"


def test_a_user_changes_its_own_password_only_by_knowing_the_current_one(app, people, clock):
    _make_login(people)
    r = people.operator.post("/api/v1/users/me/password", json={"current_password": "wrong-pass1",
                                                                "new_password": "another-2026"})
    assert r.status_code == 422 and "current_password" in r.json["errors"]
    r = people.operator.post("/api/v1/users/me/password", json={"current_password": PASSWORD,
                                                                "new_password": "another-2026"})
    assert r.status_code == 204
    policy = login_policy(app.config)
    kb_ctx = app.extensions["kb"]
    with pytest.raises(Unauthenticated):
        accounts.identify_by_password(kb_ctx.uow(), username="xiaoli", password=PASSWORD, address="t",
                                      now=clock(), policy=policy)
    assert accounts.identify_by_password(kb_ctx.uow(), username="xiaoli", password="another-2026", address="t",
                                         now=clock(), policy=policy) == people.operator.actor.user_id


def test_only_the_office_manages_accounts_and_units(people):
    target = people.operator.actor.user_id
    for who in ("operator", "maint_a", "rev_a", "scorer"):
        caller = getattr(people, who)
        assert caller.put(f"/api/v1/users/{target}/password", json={"password": PASSWORD}).status_code == 403
        assert caller.put(f"/api/v1/users/{target}/active", json={"active": False}).status_code == 403
        assert caller.patch("/api/v1/units/HX", json={"liaison_name": "张三"}).status_code == 403
    r = people.office.patch("/api/v1/units/HX", json={"liaison_name": "张三", "liaison_phone": "0531-88888888"})
    assert r.status_code == 200 and r.json["liaison_name"] == "张三" and r.json["code"] == "HX"
    r = people.office.patch("/api/v1/units/HX", json={"code": "RSJ"})
    assert r.status_code == 409 and r.json["code"] == "unit_exists"
    assert people.office.patch("/api/v1/units/NOPE", json={"name": "x"}).status_code == 404
    assert people.anonymous.patch("/api/v1/units/HX", json={"name": "x"}).status_code == 401


def test_every_user_may_change_only_its_own_password(people):
    for who in ("operator", "maint_a", "rev_a", "office", "scorer"):
        r = getattr(people, who).post("/api/v1/users/me/password",
                                      json={"current_password": "x", "new_password": "another-2026"})
        assert r.status_code == 422  # reached its own account: the current password is wrong
    assert people.anonymous.post("/api/v1/users/me/password", json={}).status_code == 401


def _second_process_app(engine, session_factory, clock, tmp_path):
    """Another worker: an app of its own (its own token cache) on the same database."""
    from service.app import create_app

    return create_app({"ENGINE": engine, "SESSION_FACTORY": session_factory, "CLOCK": clock, "TESTING": True,
                       "INDEX_DIR": str(tmp_path / "index-b"), "SECRET_KEY": "k", "SEARCH_OPEN_ON_STARTUP": False})


@pytest.mark.parametrize("how", ["revoke the token", "deactivate the user"])
def test_a_revocation_holds_in_another_worker_within_a_second(engine, session_factory, clock, tmp_path, people,
                                                             monkeypatch, how):
    import service.auth as auth

    other = _second_process_app(engine, session_factory, clock, tmp_path).test_client()
    issued = people.office.post(f"/api/v1/users/{people.operator.actor.user_id}/tokens", json={"label": "平台"}).json
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert other.get("/api/v1/users/me", headers=headers).status_code == 200  # now remembered over there
    now = [auth.time.monotonic()]  # this process's monotonic clock, moved by hand from here on
    monkeypatch.setattr(auth.time, "monotonic", lambda: now[0])
    if how == "revoke the token":
        r = people.office.delete(f"/api/v1/users/tokens/{issued['token_record']['id']}")
    else:
        r = people.office.put(f"/api/v1/users/{people.operator.actor.user_id}/active", json={"active": False})
    assert r.status_code == 200
    now[0] += 0.5
    assert other.get("/api/v1/users/me", headers=headers).status_code == 200  # within the second it looked
    now[0] += 0.6
    later = other.get("/api/v1/users/me", headers=headers)  # a second since its last look: it reads the epoch
    assert later.status_code == 401


def test_a_token_is_never_remembered_past_its_expiry(people, app, clock):
    import time

    from kb.models import ApiToken
    from kb.services.directory import hash_token

    issued = people.office.post(f"/api/v1/users/{people.operator.actor.user_id}/tokens", json={"label": "短期"}).json
    with app.extensions["kb"].uow() as uow:  # a token that expires in 10 seconds
        row = uow.session.query(ApiToken).filter_by(token_hash=hash_token(issued["token"])).one()
        row.expires_at = clock() + timedelta(seconds=10)
        uow.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    cache = app.extensions["kb.token_cache"]
    entry = cache._entries[hash_token(issued["token"])]
    assert entry[1] - time.monotonic() <= 10.5  # remembered for 10 s, not the cache's 30
