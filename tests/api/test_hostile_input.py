"""What a hostile or careless client sends: refused in the one error shape, a 4xx, nothing stored.

Lone UTF-16 surrogates, odd values that used to be 500s, and loose parsing
(duplicate keys, floats as integers, full-width digits, the body read before
the role was checked, tokens of a user that does not exist).
"""
from __future__ import annotations

import pytest

from tests.api.test_bad_input import assert_error
from tests.api.test_workflow_api import ALL_PASS, new_draft

LONE = "\ud800问题？"
SURROGATE_MESSAGE = "不能包含孤立的 UTF-16 代理字符（\\ud800–\\udfff），请检查文本的编码"


def _raw(caller, method, url, text: str):
    """Send `text` as the JSON body, byte for byte (json= would refuse to encode a lone surrogate)."""
    return getattr(caller, method)(url, data=text.encode("utf-8"), headers={"Content-Type": "application/json"})


def _path(errors, *path):
    for key in path:
        errors = errors[key]
    return errors


# --- 1. lone surrogates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller, method, url, body, field", [
    ("maint_a", "post", "/api/v1/change-requests", '{"kind": "suggestion", "reason": "\\ud800问题？"}', ("reason",)),
    ("maint_a", "post", "/api/v1/change-requests",
     '{"kind": "new", "proposal": {"question": "\\udc00", "keywords": ["a\\ud800"]}}', ("proposal", "question")),
    ("maint_a", "post", "/api/v1/change-requests",
     '{"kind": "new", "proposal": {"keywords": ["ok", "a\\ud800"]}}', ("proposal", "keywords", "1")),
    ("office", "post", "/api/v1/synonyms", '{"terms": ["居住证", "\\ud800"]}', ("terms", "1")),
    ("office", "post", "/api/v1/units", '{"code": "X1", "name": "\\ud800单位", "kind": "town"}', ("name",)),
    ("office", "post", "/api/v1/categories", '{"name": "\\udfff"}', ("name",)),
    ("office", "post", "/api/v1/tasks", '{"source": "unit_self_found", "unit_code": "HX", "detail": "\\ud800"}',
     ("detail",)),
])
def test_a_lone_surrogate_is_refused_in_any_string_field_naming_it(people, caller, method, url, body, field):
    r = _raw(getattr(people, caller), method, url, body)
    errors = assert_error(r, 422, "validation_failed")["errors"]
    assert _path(errors, *field) == [SURROGATE_MESSAGE]


def test_a_lone_surrogate_in_a_key_is_reported_printably_and_nothing_is_stored(people):
    r = _raw(people.maint_a, "post", "/api/v1/change-requests",
             '{"kind": "new", "proposal": {"\\ud800": 1}, "reason": "\\ud800问题？"}')
    body = assert_error(r, 422, "validation_failed")
    assert body["errors"]["reason"] == [SURROGATE_MESSAGE]
    assert body["errors"]["proposal"] == {"\\ud800": [SURROGATE_MESSAGE]}
    assert people.office.get("/api/v1/change-requests").json["total"] == 0
    assert people.office.get("/api/v1/audit-events").status_code == 200


def test_a_surrogate_pair_is_one_character_and_is_accepted(people):
    r = _raw(people.maint_a, "post", "/api/v1/change-requests", '{"kind": "suggestion", "reason": "\\ud83d\\ude00 好"}')
    assert r.status_code == 201, r.json
    assert r.json["reason"] == "\U0001F600 好"


def test_lists_keep_answering_after_a_surrogate_was_sent(people):
    _raw(people.maint_a, "post", "/api/v1/change-requests", '{"kind": "suggestion", "reason": "\\ud800问题？"}')
    for caller, url in ((people.office, "/api/v1/change-requests"), (people.maint_a, "/api/v1/change-requests"),
                        (people.office, "/api/v1/audit-events"), (people.maint_a, "/api/v1/inbox")):
        assert caller.get(url).status_code == 200, url


# --- 2. odd values that were 500s ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    '{"kind": "modify", "entry_id": 1' + "0" * 5000 + ', "proposal": {}}',
    '{"kind": "new", "proposal": {"category_id": -' + "9" * 4500 + "}}",
])
def test_an_integer_of_thousands_of_digits_is_a_400(people, body):
    r = _raw(people.maint_a, "post", "/api/v1/change-requests", body)
    assert_error(r, 400, "json_number_too_long")
    assert people.office.get("/api/v1/change-requests").json["total"] == 0


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(people, text):
    r = _raw(people.maint_a, "post", "/api/v1/change-requests", '{"kind": "new", "base_version": ' + text + "}")
    assert_error(r, 400, "malformed_json")


@pytest.mark.parametrize("query", [
    {"period": "9999-12"}, {"period": "9999"}, {"period": "0001-01"}, {"period": "9999-Q4"}, {"period": "0001-Q1"},
    {"from": "0001-01-01", "to": "9999-12-31"}, {"from": "2026-01-01", "to": "9999-12-31"},
    {"from": "0001-01-01", "to": "2026-01-01"}, {"period": "２０２６-10"},
])
def test_periods_at_the_ends_of_the_calendar_are_a_422(people, query):
    for url, extra in (("/api/v1/compliance", {}), ("/api/v1/scores", {"profile": "licheng"})):
        body = assert_error(people.scorer.get(url, query_string={**query, **extra}), 422)
        assert body["errors"]


@pytest.mark.parametrize("period", ["9999-12", "0001-01"])
def test_closing_or_recounting_a_month_at_the_ends_of_the_calendar_is_a_422(people, period):
    assert_error(people.office.post("/api/v1/compliance/closed-months", json={"period": period}), 422)
    assert_error(people.office.post(f"/api/v1/compliance/closed-months/{period}/recompute"), 422)


# --- 3. loose parsing ---------------------------------------------------------------------------------------------


def _in_office_review(people):
    cr = new_draft(people)
    people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    return people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review",
                             json={"approve": True, "checks": ALL_PASS}).json


def test_a_repeated_key_is_refused_and_nothing_is_published(people):
    cr = _in_office_review(people)
    r = _raw(people.office, "post", f"/api/v1/change-requests/{cr['id']}/office-review",
             '{"decision": "return", "reason": "x", "decision": "publish"}')
    body = assert_error(r, 400, "duplicate_json_key")
    assert "decision" in body["message"]
    assert people.office.get(f"/api/v1/change-requests/{cr['id']}").json["state"] == "office_review"
    r = _raw(people.maint_a, "post", "/api/v1/change-requests", '{"kind": "new", "proposal": {"answer": "a", "answer": "b"}}')
    assert_error(r, 400, "duplicate_json_key")


@pytest.mark.parametrize("value", ["1.9", "1.0", "true", '"１"', '" 1"', '"1_0"'])
def test_an_integer_field_takes_whole_numbers_only(people, value):
    cr = new_draft(people)
    r = _raw(people.maint_a, "patch", f"/api/v1/change-requests/{cr['id']}",
             '{"proposal": {"answer": "1. 改。"}, "revision": ' + value + "}")
    assert assert_error(r, 422, "validation_failed")["errors"]["revision"] == ["应为整数"]
    assert people.maint_a.get(f"/api/v1/change-requests/{cr['id']}").json["revision"] == cr["revision"]


@pytest.mark.parametrize("query", ["limit=1.5", "limit=%EF%BC%91", "limit=1_0", "offset=%C2%B2"])
def test_an_integer_in_a_query_string_is_ascii_digits(people, query):
    r = people.office.get(f"/api/v1/change-requests?{query}")
    assert_error(r, 422, "validation_failed")


def test_integer_query_arguments_still_read_digits(people):
    r = people.office.get("/api/v1/change-requests?limit=2&offset=0")
    assert r.status_code == 200 and r.json["items"] == []


@pytest.mark.parametrize("url", ["/api/v1/change-requests/{full}", "/api/v1/knowledge/{full}",
                                 "/api/v1/tasks/{full}", "/api/v1/calendar/years/{full}/confirm"])
def test_full_width_digits_in_a_path_id_match_no_route(people, url):
    cr = new_draft(people)
    full = "".join(chr(ord(d) - ord("0") + ord("０")) for d in str(cr["id"]))
    method = "post" if url.endswith("confirm") else "get"
    assert_error(getattr(people.office, method)(url.format(full=full)), 404)


def test_an_if_match_with_unicode_digits_is_a_422(people):
    cr = new_draft(people)
    for header in ('"r²"', '"r１"'):
        r = people.maint_a.patch(f"/api/v1/change-requests/{cr['id']}", json={"proposal": {"answer": "1. 改。"}},
                                 headers={"If-Match": header})
        assert_error(r, 422)


@pytest.mark.parametrize("caller, method, url, body", [
    ("operator", "post", "/api/v1/units", {"code": "", "kind": "nope"}),
    ("maint_a", "post", "/api/v1/categories", {"name": ""}),
    ("operator", "post", "/api/v1/change-requests", {"kind": "nope"}),
    ("maint_a", "post", "/api/v1/change-requests/1/office-review", {"decision": "nope"}),
    ("office", "post", "/api/v1/change-requests/1/unit-review", {}),
    ("operator", "post", "/api/v1/webhooks", {"url": 1}),
    ("scorer", "post", "/api/v1/synonyms", {"terms": "x"}),
    ("operator", "post", "/api/v1/policies", {}),
    ("operator", "get", "/api/v1/audit-events?limit=0", None),
    ("operator", "get", "/api/v1/compliance?period=x", None),
    ("scorer", "get", "/api/v1/search?per_page=0", None),
    ("maint_a", "post", "/api/v1/knowledge/1/flags", {"kind": 1}),
])
def test_a_role_that_may_not_do_it_gets_403_whatever_the_body(people, caller, method, url, body):
    kwargs = {"json": body} if body is not None else {}
    assert_error(getattr(getattr(people, caller), method)(url, **kwargs), 403)


def test_every_view_with_arguments_says_who_may_call_it(app):
    """@roles above @blp.arguments: the role is checked before the body or query is read."""
    unchecked = []
    for endpoint, view in app.view_functions.items():
        view_class = getattr(view, "view_class", None)
        for method in getattr(view_class, "methods", None) or ():
            func = getattr(view_class, method.lower())
            if getattr(func, "_apidoc", {}).get("arguments") and not getattr(func, "_allowed_roles", None):
                unchecked.append((endpoint, method))
    assert unchecked == []


def test_tokens_of_a_user_that_does_not_exist_are_a_404(people):
    assert_error(people.office.get("/api/v1/users/999999/tokens"), 404, "user_not_found")
    r = people.office.get(f"/api/v1/users/{people.operator.actor.user_id}/tokens")
    assert r.status_code == 200
