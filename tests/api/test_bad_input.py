"""Bad input of any kind gets a 4xx JSON error with a code and a Chinese message; nothing half-written."""
from __future__ import annotations

import pytest

from tests.api.test_workflow_api import new_draft


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def assert_error(response, status, code=None):
    """The one error shape: the status, a machine code and a Chinese message."""
    assert response.status_code == status, response.data[:300]
    body = response.json
    assert body["status"] == status and body["code"] and is_chinese(body["message"]), body
    if code:
        assert body["code"] == code, body
    return body


@pytest.mark.parametrize("data", ["{kind: new,", '{"kind": "new"', b'{"kind": "\xff"}', "[1, 2,]"])
def test_malformed_json_is_a_400_malformed_json_in_chinese(people, data):
    r = people.maint_a.post("/api/v1/change-requests", data=data, headers={"Content-Type": "application/json"})
    body = assert_error(r, 400, "malformed_json")
    assert "JSON" in body["message"] and "Invalid JSON body." not in str(body)


def test_field_errors_are_in_chinese_and_keep_their_structure(people):
    r = people.maint_a.post("/api/v1/change-requests", json={"proposal": {
        "question": 12, "effective_on": "not-a-date", "urgent": "maybe", "policy_attachments": "三",
        "similar_questions": "不是列表", "keywords": ["x" * 51], "format": "pdf", "unknown": 1}, "entry_id": "x"})
    errors = assert_error(r, 422, "validation_failed")["errors"]
    proposal = errors["proposal"]
    assert errors["kind"] == ["缺少必填字段"] and errors["entry_id"] == ["应为整数"]
    assert proposal["question"] == ["应为字符串"] and proposal["effective_on"] == ["应为日期，格式 YYYY-MM-DD"]
    assert proposal["urgent"] == ["应为布尔值 true 或 false"] and proposal["policy_attachments"] == ["应为整数"]
    assert proposal["similar_questions"] == ["应为列表（JSON 数组）"]
    assert proposal["keywords"] == {"0": ["长度须在 1 到 50 之间"]}
    assert proposal["format"] == ["须为以下之一：qa, document"] and proposal["unknown"] == ["不接受此字段（未知字段）"]
    r = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": None, "reason": None,
                                                              "unit_code": ["HX"]})
    assert assert_error(r, 422)["errors"] == {"unit_code": ["应为字符串"]}
    r = people.office.get("/api/v1/change-requests?limit=0&offset=x&state=nope")
    query = assert_error(r, 422, "validation_failed")["errors"]["query"]
    assert query == {"limit": ["须不小于 1 且不大于 200"], "offset": ["应为整数"],
                     "state": [query["state"][0]]} and query["state"][0].startswith("须为以下之一：draft")
    r = people.office.post("/api/v1/categories", json={"name": ""})
    assert assert_error(r, 422)["errors"] == {"name": ["长度须在 1 到 100 之间"]}


def test_english_messages_outside_the_table_pass_through_unchanged():
    from service.field_messages import translate
    assert translate({"a": ["Shorter than minimum length 3."], "b": {"0": ["Must be greater than 0."]},
                      "c": ["自己的中文"], "d": ["Something else."]}) == {
        "a": ["长度不能少于 3"], "b": {"0": ["须大于 0"]}, "c": ["自己的中文"], "d": ["Something else."]}


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, '{"kind": ' * 100_000 + "1" + "}" * 100_000])
def test_json_nested_too_deeply_is_a_400_not_a_500(people, body):
    r = people.maint_a.post("/api/v1/change-requests", data=body, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "json_too_deep")
    assert people.office.get("/api/v1/change-requests").json["total"] == 0


def test_wrong_types_and_unknown_fields_name_the_fields(people):
    r = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": {
        "question": 12, "effective_on": "not-a-date", "unknown": 1}})
    body = assert_error(r, 422, "validation_failed")
    assert {"question", "effective_on", "unknown"} <= set(body["errors"]["proposal"])


def test_oversized_body_is_a_413(people):
    r = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "reason": "很" * 600_000})
    assert "KB_MAX_BODY_BYTES" in assert_error(r, 413, "payload_too_large")["message"]


def _chunked(caller, body: bytes):
    """A chunked upload as gunicorn hands it over: no Content-Length, the server terminates the stream."""
    import io
    return caller.post("/api/v1/change-requests", input_stream=io.BytesIO(body),
                       headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_oversized_chunked_body_is_a_413_not_a_400(people):
    import json
    body = json.dumps({"kind": "suggestion", "reason": "很" * 1_000_000}, ensure_ascii=False).encode()
    assert len(body) > 2_900_000
    body = assert_error(_chunked(people.maint_a, body), 413, "payload_too_large")
    assert "KB_MAX_BODY_BYTES" in body["message"]
    assert people.office.get("/api/v1/change-requests").json["total"] == 0


def test_chunked_body_within_the_limit_is_accepted(people, app):
    import json
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps({"kind": "suggestion", "reason": "建议"}).encode()
    body = body[:-1] + b" " * (limit - len(body)) + b"}"  # exactly the limit
    r = _chunked(people.maint_a, body)
    assert r.status_code == 201, r.json


@pytest.mark.parametrize("url", ["/api/v1/knowledge/999999", "/api/v1/change-requests/999999",
                                 "/api/v1/knowledge/999999/versions"])
def test_unknown_ids_are_404(people, url):
    assert_error(people.office.get(url), 404)


def test_unknown_category_and_unit_are_422(people):
    r = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": {"category_id": 9999}})
    assert_error(r, 422)
    r = people.office.post("/api/v1/change-requests", json={"kind": "new", "unit_code": "NOPE", "proposal": {}})
    assert_error(r, 422)


def test_illegal_workflow_transitions_are_409_and_change_nothing(people):
    cr = new_draft(people)
    r = people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review",
                          json={"approve": True, "checks": {"no_typos": True, "clear": True,
                                                            "answer_matches": True, "accurate_with_basis": True}})
    assert_error(r, 409, "invalid_transition")
    people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    assert_error(people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={}), 409)
    assert_error(people.maint_a.patch(f"/api/v1/change-requests/{cr['id']}",
                                      json={"proposal": {"answer": "x"}, "revision": 2}), 409)
    after = people.maint_a.get(f"/api/v1/change-requests/{cr['id']}").json
    assert after["state"] == "unit_review" and after["proposal"]["answer"] == cr["proposal"]["answer"]


def test_an_edit_without_revision_or_if_match_is_a_428_and_changes_nothing(people):
    """Two blind edits would silently overwrite each other: an edit must name the revision it was made from."""
    cr = new_draft(people)
    r = people.maint_a.patch(f"/api/v1/change-requests/{cr['id']}", json={"proposal": {"answer": "盲改"}})
    body = assert_error(r, 428, "precondition_required")
    assert "revision" in body["message"] and "If-Match" in body["message"] and "revision" in body["errors"]
    after = people.maint_a.get(f"/api/v1/change-requests/{cr['id']}").json
    assert after["revision"] == cr["revision"] and after["proposal"]["answer"] == cr["proposal"]["answer"]
    ok = people.maint_a.patch(f"/api/v1/change-requests/{cr['id']}", json={"proposal": {"answer": "1. 改。"}},
                              headers={"If-Match": r.headers.get("ETag") or f'"r{cr["revision"]}"'})
    assert ok.status_code == 200 and ok.json["revision"] == cr["revision"] + 1


def test_a_modification_without_base_version_or_if_match_is_a_428(people):
    from tests.api.test_workflow_api import publish
    entry_id = publish(people, new_draft(people))["entry_id"]
    for kind, extra in (("modify", {"proposal": {"answer": "甲"}}), ("delete", {"reason": "政策已废止"})):
        r = people.maint_a.post("/api/v1/change-requests", json={"kind": kind, "entry_id": entry_id, **extra})
        body = assert_error(r, 428, "precondition_required")
        assert "base_version" in body["message"] and "If-Match" in body["message"]
    assert people.office.get("/api/v1/change-requests?kind=modify").json["total"] == 0


def test_expiry_before_effect_is_refused(people):
    r = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": {
        "effective_on": "2026-05-01", "expires_on": "2026-04-01"}})
    assert_error(r, 422)


def test_bad_if_match_is_a_clear_error(people):
    cr = new_draft(people)
    r = people.maint_a.patch(f"/api/v1/change-requests/{cr['id']}", json={"proposal": {"answer": "x"}},
                             headers={"If-Match": "garbage"})
    assert_error(r, 422)


def test_failed_publication_leaves_nothing_half_written(people):
    """A stale modification fails at publish: no version, no state change, no outbox row."""
    from tests.api.test_workflow_api import publish
    entry_id = publish(people, new_draft(people))["entry_id"]
    a = people.maint_a.post("/api/v1/change-requests", json={"kind": "modify", "entry_id": entry_id,
                                                              "base_version": 1, "proposal": {"answer": "甲"}}).json
    b = people.maint_a.post("/api/v1/change-requests", json={"kind": "modify", "entry_id": entry_id,
                                                              "base_version": 1, "proposal": {"answer": "乙"}}).json
    b = people.maint_a.post(f"/api/v1/change-requests/{b['id']}/submit", json={}).json
    publish(people, a)
    people.office.get("/api/v1/audit-events")
    b_state = people.maint_a.get(f"/api/v1/change-requests/{b['id']}").json
    assert b_state["state"] == "unit_review"
    b_state = people.rev_a.post(f"/api/v1/change-requests/{b['id']}/unit-review", json={
        "approve": True, "checks": {"no_typos": True, "clear": True, "answer_matches": True,
                                    "accurate_with_basis": True}}).json
    r = people.office.post(f"/api/v1/change-requests/{b['id']}/office-review", json={"decision": "publish"})
    assert_error(r, 409, "stale_version")
    assert people.maint_a.get(f"/api/v1/change-requests/{b['id']}").json["state"] == "office_review"
    assert [v["number"] for v in people.maint_a.get(f"/api/v1/knowledge/{entry_id}/versions").json["items"]] == [1, 2]


def test_revoked_token_stops_working(people):
    tokens = people.office.get(f"/api/v1/users/{people.operator.actor.user_id}/tokens").json["items"]
    assert tokens[0]["last_used_at"] is None or tokens[0]["last_used_at"]
    r = people.office.delete(f"/api/v1/users/tokens/{tokens[0]['id']}")
    assert r.status_code == 200 and r.json["revoked_at"]
    assert_error(people.operator.get("/api/v1/knowledge"), 401, "token_revoked")


def test_tokens_are_stored_only_as_hashes(people, session_factory):
    from sqlalchemy import text
    with session_factory() as s:
        stored = [row[0] for row in s.execute(text("SELECT token_hash FROM api_tokens"))]
    assert people.operator.token not in stored and len(stored[0]) == 64


def test_docs_and_openapi_are_served_without_a_token(app):
    client = app.test_client()
    spec = client.get("/openapi.json").json
    assert "/api/v1/change-requests/{cr_id}/unit-review" in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    page = client.get("/docs")
    assert page.status_code == 200 and b"/docs/assets/swagger-ui-bundle.js" in page.data
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/healthz").json["status"] == "ok"


# --- NUL characters: PostgreSQL text and jsonb cannot hold them, so every input schema refuses them ---------


def _nul_message(errors, *path):
    for key in path:
        errors = errors[key]
    assert errors == ["不能包含空字符（\\u0000）"], errors
    return errors


def test_nul_characters_in_a_draft_are_refused_field_by_field(people):
    r = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "reason": "a\u0000b", "proposal": {
        "question": "居住证\u0000", "similar_questions": ["居住证在哪办", "办\u0000证"], "keywords": ["\u0000"]}})
    errors = assert_error(r, 422, "validation_failed")["errors"]
    _nul_message(errors, "reason")
    _nul_message(errors, "proposal", "question")
    _nul_message(errors, "proposal", "similar_questions", "1")
    _nul_message(errors, "proposal", "keywords", "0")
    assert "0" not in errors["proposal"]["similar_questions"]
    assert people.office.get("/api/v1/change-requests").json["total"] == 0


def test_nul_characters_cannot_reach_a_draft_by_edit_or_a_publication_by_review(people):
    cr = new_draft(people)
    r = people.maint_a.patch(f"/api/v1/change-requests/{cr['id']}", json={
        "revision": cr["revision"], "proposal": {"answer": "1. 材料\u0000"}})
    _nul_message(assert_error(r, 422, "validation_failed")["errors"], "proposal", "answer")
    people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    r = people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review", json={
        "approve": False, "checks": {"no_typos": False, "clear\u0000": True}, "reason": "错\u0000"})
    errors = assert_error(r, 422, "validation_failed")["errors"]
    _nul_message(errors, "reason")
    _nul_message(errors, "checks", "clear\u0000")
    from tests.api.test_workflow_api import ALL_PASS
    people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review", json={"approve": True, "checks": ALL_PASS})
    r = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review",
                           json={"decision": "publish", "reason": "\u0000"})
    _nul_message(assert_error(r, 422, "validation_failed")["errors"], "reason")
    after = people.office.get(f"/api/v1/change-requests/{cr['id']}").json
    assert after["state"] == "office_review" and after["proposal"]["answer"] == cr["proposal"]["answer"]
    r = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review", json={"decision": "publish"})
    assert r.status_code == 200 and r.json["state"] == "published"


@pytest.mark.parametrize("caller, method, url, body, field", [
    ("office", "post", "/api/v1/units", {"code": "X1", "name": "单位\u0000", "kind": "town"}, "name"),
    ("office", "post", "/api/v1/users", {"name": "张\u0000三", "role": "operator"}, "name"),
    ("office", "post", "/api/v1/categories", {"name": "\u0000"}, "name"),
    ("office", "get", "/api/v1/change-requests?unit=HX%00", None, ("query", "unit")),
    ("operator", "get", "/api/v1/knowledge?unit=%00", None, ("query", "unit")),
    ("operator", "get", "/api/v1/search?q=%E5%B1%85%00", None, ("query", "q")),
    ("office", "post", "/api/v1/tasks", {"source": "unit_self_found", "unit_code": "HX", "detail": "缺\u0000漏"},
     "detail"),
])
def test_nul_characters_are_refused_in_every_kind_of_input(people, caller, method, url, body, field):
    kwargs = {"json": body} if body is not None else {}
    r = getattr(getattr(people, caller), method)(url, **kwargs)
    path = field if isinstance(field, tuple) else (field,)
    _nul_message(assert_error(r, 422, "validation_failed")["errors"], *path)


def test_nul_characters_deep_in_junk_are_reported_at_a_bounded_depth(people):
    junk = '{"kind": "new", "x": ' + "[" * 500 + '"\\u0000", "\\u0000"' + "]" * 500 + ', "reason": "\\u0000"}'
    r = people.maint_a.post("/api/v1/change-requests", data=junk, headers={"Content-Type": "application/json"})
    errors = assert_error(r, 422, "validation_failed")["errors"]
    _nul_message(errors, "reason")
    _nul_message(errors, "x", "0", "0", "0", "0", "0")


def test_every_input_schema_refuses_nul_characters(app):
    """Every @blp.arguments schema is a StrictSchema, whose pre_load hook refuses NUL in any string."""
    from service.schemas.common import StrictSchema

    checked = 0
    for endpoint, view in app.view_functions.items():
        view_class = getattr(view, "view_class", None)
        for method in getattr(view_class, "methods", None) or ():
            func = getattr(view_class, method.lower())
            for parameter in getattr(func, "_apidoc", {}).get("arguments", {}).get("parameters", []):
                schema = parameter["schema"]
                schema = schema if isinstance(schema, type) else type(schema)
                assert issubclass(schema, StrictSchema), (endpoint, method, schema)
                checked += 1
    assert checked > 30
