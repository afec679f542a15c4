"""The console's log-in and forms against a careless or hostile browser: CSRF, session fixation,
another unit's pages, log-in throttling, deactivation, open redirects. Through the Flask test client,
on SQLite and PostgreSQL (the browser journeys are in tests/browser)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from kb.proposal import Proposal
from kb.services import accounts, changes

PASSWORD = "hotline-2026"


@pytest.fixture
def logins(app, people):
    """Every person of `people` gets a log-in: user name = the fixture's key."""
    office = people.office.actor
    for key in ("operator", "maint_a", "rev_a", "maint_b", "office"):
        accounts.set_credentials(app.extensions["kb"].uow(), office, getattr(people, key).actor.user_id,
                                 username=key, password=PASSWORD, now=app.extensions["kb"].now())
    return people


def _csrf(client, path="/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(client, username, password=PASSWORD, next_page=None):
    token = _csrf(client)
    url = "/login" + (f"?next={next_page}" if next_page else "")
    return client.post(url, data={"username": username, "password": password, "csrf_token": token})


def test_log_in_opens_the_roles_home_and_log_out_ends_the_session(app, logins):
    client = app.test_client()
    assert client.get("/search").status_code == 302  # not logged in: to the log-in page
    r = log_in(client, "operator")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/search"
    assert client.get("/search").status_code == 200
    token = _csrf(client, "/search")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/search").status_code == 302


def test_the_session_cookie_is_httponly_and_samesite_lax(app, logins):
    client = app.test_client()
    r = log_in(client, "operator")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_a_secure_cookie_behind_tls_by_setting(engine, session_factory, clock, tmp_path, logins):
    from service.app import create_app

    app = create_app({"ENGINE": engine, "SESSION_FACTORY": session_factory, "CLOCK": clock, "TESTING": True,
                      "INDEX_DIR": str(tmp_path / "index2"), "SESSION_COOKIE_SECURE": True, "SECRET_KEY": "k"})
    r = log_in(app.test_client(), "operator")
    assert "Secure" in r.headers["Set-Cookie"]


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(app, logins):
    wrong = log_in(app.test_client(), "operator", "not-the-password1")
    unknown = log_in(app.test_client(), "nobody", "not-the-password1")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.get_data(as_text=True) and "用户名或密码错误" in unknown.get_data(as_text=True)


def test_forms_without_the_csrf_token_are_refused_and_nothing_changes(app, logins):
    client = app.test_client()
    log_in(client, "maint_a")
    r = client.post("/changes/new", data={"kind": "new", "question": "伪造的问题？", "answer": "x", "then": "save"})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)
    total, _ = changes.list_for(app.extensions["kb"].reader(), logins.maint_a.actor)
    assert total == 0
    r = client.post("/changes/new", data={"kind": "new", "question": "真的问题？", "answer": "x", "then": "save",
                                          "csrf_token": "forged"})
    assert r.status_code == 400
    # nor log-in itself (a forged log-in would put the victim in the attacker's account)
    assert app.test_client().post("/login", data={"username": "operator", "password": PASSWORD}).status_code == 400


def test_logging_in_gives_a_new_session_so_a_planted_cookie_is_worth_nothing(app, logins):
    attacker = app.test_client()
    attacker.get("/login")
    planted = attacker.get_cookie("kb_session").value
    victim = app.test_client()
    victim.set_cookie("kb_session", planted)
    log_in(victim, "office")
    assert victim.get_cookie("kb_session").value != planted
    assert attacker.get("/publish").status_code == 302  # the planted cookie did not become a logged-in one


def test_an_old_session_cookie_stops_working_after_log_out(app, logins):
    client = app.test_client()
    log_in(client, "office")
    stolen = client.get_cookie("kb_session").value
    client.post("/logout", data={"csrf_token": _csrf(client, "/publish")})
    thief = app.test_client()
    thief.set_cookie("kb_session", stolen)
    assert thief.get("/publish").status_code == 302


def test_a_maintainer_cannot_open_another_units_pages_by_changing_the_id(app, logins, world):
    cr = changes.create(app.extensions["kb"].uow(), logins.maint_b.actor, kind="new", now=app.extensions["kb"].now(),
                        proposal=Proposal(question="区人社局的问题？", answer="答案"))
    client = app.test_client()
    log_in(client, "maint_a")
    for path in (f"/changes/{cr.id}", f"/changes/{cr.id}/edit"):
        r = client.get(path)
        assert r.status_code == 403 and "本单位" in r.get_data(as_text=True)
    r = client.post(f"/changes/{cr.id}/edit", data={"csrf_token": _csrf(client, "/changes"), "question": "改掉？",
                                                        "answer": "x", "revision": "1", "then": "save"})
    assert r.status_code == 403
    assert changes.get(app.extensions["kb"].reader(), logins.maint_b.actor, cr.id).proposal.question == \
        "区人社局的问题？"


def test_pages_of_other_roles_answer_403_with_a_page_saying_so(app, logins):
    client = app.test_client()
    log_in(client, "operator")
    for path in ("/publish", "/review", "/changes/new", "/office/users", "/office/flags", "/tasks"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert "无权打开此页面" in r.get_data(as_text=True) and "Traceback" not in r.get_data(as_text=True)


def test_failed_log_ins_are_throttled_per_account(app, logins, clock):
    for _ in range(5):
        assert log_in(app.test_client(), "operator", "wrong-password1").status_code == 401
    r = log_in(app.test_client(), "operator")  # the right password, but the account is locked for the window
    assert r.status_code == 429 and "失败次数过多" in r.get_data(as_text=True)
    assert log_in(app.test_client(), "office").status_code == 302  # other accounts are not affected
    clock.at += timedelta(minutes=16)
    assert log_in(app.test_client(), "operator").status_code == 302


def test_failed_log_ins_are_throttled_per_address(app, logins):
    for n in range(20):
        log_in(app.test_client(), f"guess{n}", "wrong-password1")
    assert log_in(app.test_client(), "operator").status_code == 429
    other = app.test_client()
    token = _csrf(other)
    r = other.post("/login", data={"username": "operator", "password": PASSWORD, "csrf_token": token},
                   environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert r.status_code == 302


def test_deactivation_throws_the_user_out_at_the_next_request(app, logins):
    client = app.test_client()
    log_in(client, "maint_a")
    assert client.get("/changes").status_code == 200
    accounts.set_active(app.extensions["kb"].uow(), logins.office.actor, logins.maint_a.actor.user_id, active=False,
                        now=app.extensions["kb"].now())
    assert client.get("/changes").status_code == 302
    assert log_in(app.test_client(), "maint_a").status_code == 401


def test_a_password_reset_ends_the_users_sessions(app, logins):
    client = app.test_client()
    log_in(client, "rev_a")
    accounts.set_credentials(app.extensions["kb"].uow(), logins.office.actor, logins.rev_a.actor.user_id,
                             password="new-secret-9", now=app.extensions["kb"].now())
    assert client.get("/review").status_code == 302


def test_sessions_end_after_the_idle_timeout(app, logins, clock):
    client = app.test_client()
    log_in(client, "operator")
    clock.at += timedelta(hours=3)
    assert client.get("/search").status_code == 200
    clock.at += timedelta(hours=4, minutes=1)
    assert client.get("/search").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_log_in_never_redirects_off_site(app, logins, target):
    r = log_in(app.test_client(), "operator", next_page=target)
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_log_in_returns_to_the_page_asked_for(app, logins):
    client = app.test_client()
    r = client.get("/office/flags?state=pending")
    assert r.headers["Location"].startswith("/login?next=")
    r = log_in(client, "office", next_page="/office/flags?state%3Dpending")
    assert r.headers["Location"] == "/office/flags?state=pending"


def test_changing_ones_own_password_in_the_console(app, logins):
    client = app.test_client()
    log_in(client, "operator")
    token = _csrf(client, "/account/password")
    r = client.post("/account/password", data={"csrf_token": token, "current_password": "wrong-one-1",
                                               "new_password": "another-2026"})
    assert r.status_code == 422 and "当前密码不正确" in r.get_data(as_text=True)
    r = client.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                               "new_password": "another-2026"})
    assert r.status_code == 302
    assert client.get("/search").status_code == 200  # this session stays
    assert log_in(app.test_client(), "operator", "another-2026").status_code == 302


def test_static_assets_are_served_here_with_long_cache_headers(app, logins):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    css = re.search(r'href="(/static/console\.css\?v=[0-9a-f]+)"', page).group(1)
    r = client.get(css)
    assert r.status_code == 200 and "max-age=31536000" in r.headers["Cache-Control"]
    assert "//" not in re.sub(r"https?://127\.0\.0\.1", "", page.replace("http://www.w3.org", "")).split("<body")[0] \
        .replace("content=\"width", "")


def test_the_office_is_told_why_a_password_reset_or_unit_edit_was_refused(app, logins):
    client = app.test_client()
    log_in(client, "office")
    token = _csrf(client, "/office/users")
    r = client.post(f"/office/users/{logins.operator.actor.user_id}/password",
                    data={"csrf_token": token, "password": "short"}, follow_redirects=True)
    assert "密码未修改：密码至少 8 位" in r.get_data(as_text=True)
    r = client.post("/office/units/HX", data={"csrf_token": token, "code": "RSJ"}, follow_redirects=True)
    assert "单位 HX 未修改：单位编码已存在" in r.get_data(as_text=True)
    assert log_in(app.test_client(), "operator").status_code == 302  # the old password still works
