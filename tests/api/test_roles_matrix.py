"""Who may do what: every role against every endpoint, one cell at a time.

A cell is "ok" (the request is carried out), "403" (refused with a clear
Chinese message) or "404" (operators are not told unpublished things exist).
"""
from __future__ import annotations

import io
import itertools
from dataclasses import dataclass

import pytest

from tests.api.test_workflow_api import ALL_PASS

ROLES = ("operator", "maint_a", "rev_a", "maint_b", "rev_b", "office", "scorer")


def _new_cr(people, caller="maint_a"):
    r = getattr(people, caller).post("/api/v1/change-requests", json={"kind": "new", "proposal": {
        "question": "如何办理居住证？", "answer": "1. 到社区登记；\n2. 领取居住证。",
        "category_id": people.categories["社会民生"], "effective_on": "2026-01-01"}})
    assert r.status_code == 201, r.json
    return r.json


def _submitted(people):
    cr = _new_cr(people)
    return people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={}).json


def _unit_approved(people):
    cr = _submitted(people)
    return people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review",
                             json={"approve": True, "checks": ALL_PASS}).json


def _published_entry(people):
    cr = _unit_approved(people)
    return people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review",
                              json={"decision": "publish"}).json["entry_id"]


def _operator_id(people):
    return people.operator.actor.user_id


def _operator_spare_token(people):
    r = people.office.post(f"/api/v1/users/{_operator_id(people)}/tokens", json={"label": "备用"})
    assert r.status_code == 201, r.json
    return r.json["token_record"]["id"]


_numbers = itertools.count(1)


def _category(people):
    r = people.office.post("/api/v1/categories", json={"name": f"临时分类{next(_numbers)}"})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _synonym_group(people):
    r = people.office.post("/api/v1/synonyms", json={"terms": ["居住证", "暂住证"]})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _flag_on_entry_of_unit_a(people):
    entry_id = _published_entry(people)
    r = people.operator.post(f"/api/v1/knowledge/{entry_id}/flags", json={"kind": "suggestion", "text": "补充办理时间"})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _policy(people):
    r = people.office.post("/api/v1/policies", json={"doc_number": f"鲁政发〔2026〕{next(_numbers)}号", "title": "通知",
                                                      "issuer": "省政府", "published_on": "2026-01-01"})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _override(people):
    r = people.office.put("/api/v1/calendar/overrides/2027-01-04", json={"kind": "holiday"})
    assert r.status_code == 200, r.json
    return "2027-01-04"


def _closed_month(people):
    r = people.office.post("/api/v1/compliance/closed-months", json={"period": "2026-10"})
    assert r.status_code < 300, r.json
    return "2026-10"


def _gap_report_row(people):
    """A query operators searched for in vain, as the office's knowledge-gap report keys it."""
    people.operator.get("/api/v1/search", query_string={"q": "护照过期了怎么换"})
    return next(g["query_key"] for g in people.office.get("/api/v1/search/gaps").json["items"]
                if g["query"] == "护照过期了怎么换")


@dataclass(frozen=True)
class Upload:
    """A multipart body with one file, for endpoints that take a file instead of JSON."""

    data: bytes
    name: str


def _import_file(c, p) -> Upload:
    from tests.api.test_import_export_api import row, xlsx

    return Upload(xlsx([row(f"矩阵导入的问题（{next(_numbers)}）？")]), "知识.xlsx")


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _png(c, p) -> Upload:
    return Upload(PNG, "照片.png")


def _draft_with_file(people):
    cr = _new_cr(people)
    r = people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/attachments",
                            data={"file": (io.BytesIO(PNG), "照片.png")}, content_type="multipart/form-data")
    assert r.status_code == 201, r.json
    return {"id": cr["id"], "file": r.json["id"]}


def _published_file(people):
    cr = _draft_with_file(people)
    people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review", json={"approve": True, "checks": ALL_PASS})
    entry_id = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review",
                                  json={"decision": "publish"}).json["entry_id"]
    return {"id": entry_id, "file": cr["file"]}


# endpoint name -> (setup(people) -> context, method, url(ctx), body(ctx, people))
ENDPOINTS = {
    "list units": (None, "get", lambda c: "/api/v1/units", None),
    "create unit": (None, "post", lambda c: "/api/v1/units",
                    lambda c, p: {"code": "NEW1", "name": "新单位", "kind": "department"}),
    "list users": (None, "get", lambda c: "/api/v1/users", None),
    "create user": (None, "post", lambda c: "/api/v1/users", lambda c, p: {"name": "新话务员", "role": "operator"}),
    "list categories": (None, "get", lambda c: "/api/v1/categories", None),
    "create category": (None, "post", lambda c: "/api/v1/categories", lambda c, p: {"name": "新分类"}),
    "list knowledge": (None, "get", lambda c: "/api/v1/knowledge", None),
    "get knowledge": (_published_entry, "get", lambda c: f"/api/v1/knowledge/{c}", None),
    "knowledge versions": (_published_entry, "get", lambda c: f"/api/v1/knowledge/{c}/versions", None),
    "list change requests": (None, "get", lambda c: "/api/v1/change-requests", None),
    "create change request": (None, "post", lambda c: "/api/v1/change-requests",
                              lambda c, p: {"kind": "suggestion", "reason": "建议补充办理地点"}),
    "modify entry of unit A": (_published_entry, "post", lambda c: "/api/v1/change-requests",
                               lambda c, p: {"kind": "modify", "entry_id": c, "base_version": 1,
                                             "proposal": {"answer": "新答案"}}),
    "read draft of unit A": (_new_cr, "get", lambda c: f"/api/v1/change-requests/{c['id']}", None),
    "edit draft of unit A": (_new_cr, "patch", lambda c: f"/api/v1/change-requests/{c['id']}",
                             lambda c, p: {"proposal": {"answer": "改"}, "revision": c["revision"]}),
    "submit draft of unit A": (_new_cr, "post", lambda c: f"/api/v1/change-requests/{c['id']}/submit",
                               lambda c, p: {}),
    "unit review of unit A": (_submitted, "post", lambda c: f"/api/v1/change-requests/{c['id']}/unit-review",
                              lambda c, p: {"approve": True, "checks": ALL_PASS}),
    "office review": (_unit_approved, "post", lambda c: f"/api/v1/change-requests/{c['id']}/office-review",
                      lambda c, p: {"decision": "publish"}),
    "audit log": (None, "get", lambda c: "/api/v1/audit-events", None),
    "who am I": (None, "get", lambda c: "/api/v1/users/me", None),
    "list the operator's tokens": (_operator_id, "get", lambda c: f"/api/v1/users/{c}/tokens", None),
    "issue the operator a token": (_operator_id, "post", lambda c: f"/api/v1/users/{c}/tokens",
                                   lambda c, p: {"label": "第二台电脑"}),
    "revoke a token of the operator": (_operator_spare_token, "delete", lambda c: f"/api/v1/users/tokens/{c}", None),
    "change a category": (_category, "patch", lambda c: f"/api/v1/categories/{c}", lambda c, p: {"name": "改名"}),
    "delete a category": (_category, "delete", lambda c: f"/api/v1/categories/{c}", None),
    "cancel draft of unit A": (_new_cr, "post", lambda c: f"/api/v1/change-requests/{c['id']}/cancel",
                               lambda c, p: {"revision": c["revision"]}),
    "related knowledge": (_published_entry, "get", lambda c: f"/api/v1/knowledge/{c}/related", None),
    "record a usage": (_published_entry, "post", lambda c: f"/api/v1/knowledge/{c}/usages",
                       lambda c, p: {"ticket_number": "GD20261102001"}),
    "search": (None, "get", lambda c: "/api/v1/search?q=%E5%B1%85%E4%BD%8F%E8%AF%81", None),
    "recommend for a ticket": (None, "post", lambda c: "/api/v1/search/recommend",
                               lambda c, p: {"text": "市民来电咨询居住证在哪里办理"}),
    "suggest questions": (None, "get", lambda c: "/api/v1/search/suggest?prefix=%E5%B1%85", None),
    "hot knowledge": (None, "get", lambda c: "/api/v1/search/hot", None),
    "knowledge gaps": (None, "get", lambda c: "/api/v1/search/gaps", None),
    "open a gap task": (_gap_report_row, "post", lambda c: "/api/v1/search/gaps/tasks",
                        lambda c, p: {"query_key": c, "unit_code": "RSJ"}),
    "list synonyms": (None, "get", lambda c: "/api/v1/synonyms", None),
    "add synonyms": (None, "post", lambda c: "/api/v1/synonyms", lambda c, p: {"terms": ["医保", "医疗保险"]}),
    "replace synonyms": (_synonym_group, "put", lambda c: f"/api/v1/synonyms/{c}",
                         lambda c, p: {"terms": ["居住证", "暂住证", "居住登记"]}),
    "delete synonyms": (_synonym_group, "delete", lambda c: f"/api/v1/synonyms/{c}", None),
    "import synonyms": (None, "post", lambda c: "/api/v1/synonyms/import", lambda c, p: {"text": "社保,社会保险\n"}),
    "read a flag on unit A": (_flag_on_entry_of_unit_a, "get", lambda c: f"/api/v1/flags/{c}", None),
    "read a policy": (_policy, "get", lambda c: f"/api/v1/policies/{c}", None),
    "correct a policy": (_policy, "patch", lambda c: f"/api/v1/policies/{c}", lambda c, p: {"title": "通知（更正）"}),
    "remove a date override": (_override, "delete", lambda c: f"/api/v1/calendar/overrides/{c}", None),
    "close a month": (None, "post", lambda c: "/api/v1/compliance/closed-months", lambda c, p: {"period": "2026-10"}),
    "recount a closed month": (_closed_month, "post",
                               lambda c: f"/api/v1/compliance/closed-months/{c}/recompute", None),
    "import template": (None, "get", lambda c: "/api/v1/imports/template", None),
    "import knowledge": (None, "post", lambda c: "/api/v1/imports", _import_file),
    "export knowledge": (None, "get", lambda c: "/api/v1/knowledge/export?format=csv", None),
    "upload a file to a draft of unit A": (_new_cr, "post", lambda c: f"/api/v1/change-requests/{c['id']}/attachments",
                                           _png),
    "list a draft's files of unit A": (_draft_with_file, "get",
                                       lambda c: f"/api/v1/change-requests/{c['id']}/attachments", None),
    "remove a draft's file of unit A": (_draft_with_file, "delete",
                                        lambda c: f"/api/v1/change-requests/{c['id']}/attachments/{c['file']}", None),
    "download a draft's file of unit A": (_draft_with_file, "get", lambda c: f"/api/v1/attachments/{c['file']}", None),
    "download a published file": (_published_file, "get", lambda c: f"/api/v1/attachments/{c['file']}", None),
    "list a published entry's files": (_published_file, "get", lambda c: f"/api/v1/knowledge/{c['id']}/attachments",
                                       None),
}

EXPECTED = {
    #                        operator maint_a rev_a maint_b rev_b office scorer
    "list units":            ("ok",   "ok",   "ok", "ok",   "ok", "ok",  "ok"),
    "create unit":           ("403",  "403",  "403", "403", "403", "ok", "403"),
    "list users":            ("403",  "403",  "403", "403", "403", "ok", "403"),
    "create user":           ("403",  "403",  "403", "403", "403", "ok", "403"),
    "list categories":       ("ok",   "ok",   "ok", "ok",   "ok", "ok",  "ok"),
    "create category":       ("403",  "403",  "403", "403", "403", "ok", "403"),
    "list knowledge":        ("ok",   "ok",   "ok", "ok",   "ok", "ok",  "403"),
    "get knowledge":         ("ok",   "ok",   "ok", "ok",   "ok", "ok",  "403"),
    "knowledge versions":    ("403",  "ok",   "ok", "403",  "403", "ok", "403"),
    "list change requests":  ("403",  "ok",   "ok", "ok",   "ok", "ok",  "403"),
    "create change request": ("403",  "ok",   "403", "ok",  "403", "422", "403"),
    "modify entry of unit A": ("403", "ok",   "403", "403", "403", "ok", "403"),
    "read draft of unit A":  ("403",  "ok",   "ok", "403",  "403", "ok", "403"),
    "edit draft of unit A":  ("403",  "ok",   "403", "403", "403", "ok", "403"),
    "submit draft of unit A": ("403", "ok",   "403", "403", "403", "ok", "403"),
    "unit review of unit A": ("403",  "403",  "ok", "403",  "403", "403", "403"),
    "office review":         ("403",  "403",  "403", "403", "403", "ok", "403"),
    "audit log":             ("403",  "403",  "403", "403", "403", "ok", "403"),
    "who am I":              ("ok",   "ok",   "ok", "ok",   "ok", "ok",  "ok"),
    "list the operator's tokens": ("ok", "403", "403", "403", "403", "ok", "403"),
    "issue the operator a token": ("ok", "403", "403", "403", "403", "ok", "403"),
    "revoke a token of the operator": ("ok", "403", "403", "403", "403", "ok", "403"),
    "change a category":     ("403",  "403",  "403", "403", "403", "ok", "403"),
    "delete a category":     ("403",  "403",  "403", "403", "403", "ok", "403"),
    "cancel draft of unit A": ("403", "ok",   "403", "403", "403", "ok", "403"),
    "related knowledge":     ("ok",   "ok",   "ok", "ok",   "ok", "ok",  "403"),
    "record a usage":        ("ok",   "403",  "403", "403", "403", "ok", "403"),
    "search":                ("ok",   "ok",   "ok", "ok",   "ok", "ok",  "403"),
    "recommend for a ticket": ("ok",  "ok",   "ok", "ok",   "ok", "ok",  "403"),
    "suggest questions":     ("ok",   "ok",   "ok", "ok",   "ok", "ok",  "403"),
    "hot knowledge":         ("ok",   "ok",   "ok", "ok",   "ok", "ok",  "403"),
    "knowledge gaps":        ("403",  "403",  "403", "403", "403", "ok", "403"),
    "open a gap task":       ("403",  "403",  "403", "403", "403", "ok", "403"),
    "list synonyms":         ("ok",   "ok",   "ok", "ok",   "ok", "ok",  "403"),
    "add synonyms":          ("403",  "403",  "403", "403", "403", "ok", "403"),
    "replace synonyms":      ("403",  "403",  "403", "403", "403", "ok", "403"),
    "delete synonyms":       ("403",  "403",  "403", "403", "403", "ok", "403"),
    "import synonyms":       ("403",  "403",  "403", "403", "403", "ok", "403"),
    "read a flag on unit A": ("ok",   "ok",   "ok", "403",  "403", "ok", "403"),
    "read a policy":         ("ok",   "ok",   "ok", "ok",   "ok", "ok",  "403"),
    "correct a policy":      ("403",  "403",  "403", "403", "403", "ok", "403"),
    "remove a date override": ("403", "403",  "403", "403", "403", "ok", "403"),
    "close a month":         ("403",  "403",  "403", "403", "403", "ok", "403"),
    "recount a closed month": ("403", "403",  "403", "403", "403", "ok", "403"),
    "import template":       ("403",  "ok",   "403", "ok",  "403", "ok",  "403"),
    "import knowledge":      ("403",  "ok",   "403", "ok",  "403", "422", "403"),  # the office names a unit
    "export knowledge":      ("403",  "ok",   "403", "ok",  "403", "ok",  "403"),
    "upload a file to a draft of unit A": ("403", "ok", "403", "403", "403", "ok", "403"),
    "list a draft's files of unit A": ("403", "ok", "ok", "403", "403", "ok", "403"),
    "remove a draft's file of unit A": ("403", "ok", "403", "403", "403", "ok", "403"),
    "download a draft's file of unit A": ("404", "ok", "ok", "404", "404", "ok", "403"),
    "download a published file": ("ok",  "ok",   "ok", "ok",   "ok", "ok",  "403"),
    "list a published entry's files": ("ok", "ok", "ok", "ok",  "ok", "ok",  "403"),
}

# Endpoints whose roles are checked, every role against every endpoint, in a test file of their own:
# (method, rule as in app.url_map). Every other /api/v1 endpoint must be a row of the matrix above.
ROLE_TESTS_ELSEWHERE = {
    # the correction loop's own matrix (its ENDPOINTS and EXPECTED)
    "tests/api/test_tasks_roles.py": {
        ("GET", "/api/v1/tasks"), ("POST", "/api/v1/tasks"), ("GET", "/api/v1/tasks/<int:task_id>"),
        ("POST", "/api/v1/tasks/<int:task_id>/link"), ("POST", "/api/v1/tasks/<int:task_id>/change-requests"),
        ("POST", "/api/v1/tasks/<int:task_id>/decline"), ("POST", "/api/v1/tasks/<int:task_id>/decline-ruling"),
        ("POST", "/api/v1/knowledge/<int:entry_id>/flags"), ("GET", "/api/v1/flags"),
        ("POST", "/api/v1/flags/<int:flag_id>/triage"), ("GET", "/api/v1/policies"), ("POST", "/api/v1/policies"),
        ("POST", "/api/v1/policies/<int:policy_id>/status"), ("GET", "/api/v1/calendar/overrides"),
        ("PUT", "/api/v1/calendar/overrides/<string:day>"), ("POST", "/api/v1/calendar/years/<int:year>/confirm"),
        ("GET", "/api/v1/calendar/deadline"), ("POST", "/api/v1/knowledge/<int:entry_id>/verify"),
        ("GET", "/api/v1/verification/due"), ("GET", "/api/v1/inbox"),
    },
    # test_only_the_office_manages_accounts_and_units, test_every_user_may_change_only_its_own_password
    "tests/api/test_accounts_api.py": {
        ("PATCH", "/api/v1/units/<string:unit_code>"), ("PUT", "/api/v1/users/<int:user_id>/password"),
        ("POST", "/api/v1/users/me/password"), ("PUT", "/api/v1/users/<int:user_id>/active"),
    },
    # test_notices_roles, test_reminder_preferences_and_log_roles
    "tests/api/test_oversight_api.py": {
        ("GET", "/api/v1/notices"), ("POST", "/api/v1/notices"), ("GET", "/api/v1/notices/<int:notice_id>"),
        ("POST", "/api/v1/notices/<int:notice_id>/confirm"), ("GET", "/api/v1/notifications"),
        ("POST", "/api/v1/notifications/<int:notification_id>/replay"), ("GET", "/api/v1/preferences/contact"),
        ("PUT", "/api/v1/preferences/contact"), ("PUT", "/api/v1/preferences/units/<string:unit_code>/robot"),
        ("GET", "/api/v1/search/direct-rate"),
    },
    # test_only_the_office_may_touch_webhooks: every webhook endpoint, every role, and the office
    "tests/api/test_webhooks_api.py": {
        ("GET", "/api/v1/webhooks"), ("POST", "/api/v1/webhooks"), ("GET", "/api/v1/webhooks/<int:subscription_id>"),
        ("PATCH", "/api/v1/webhooks/<int:subscription_id>"), ("DELETE", "/api/v1/webhooks/<int:subscription_id>"),
        ("GET", "/api/v1/webhooks/<int:subscription_id>/deliveries"), ("GET", "/api/v1/webhooks/deliveries"),
        ("GET", "/api/v1/webhooks/deliveries/<int:delivery_id>"),
        ("POST", "/api/v1/webhooks/deliveries/<int:delivery_id>/replay"),
    },
    # test_only_the_scorer_and_the_office_read_counts_and_scores, with the scorer's and office's reads beside it
    "tests/api/test_compliance_api.py": {
        ("GET", "/api/v1/compliance"), ("GET", "/api/v1/compliance/closed-months"), ("GET", "/api/v1/scores"),
        ("GET", "/api/v1/scoring-profiles"),
    },
}


class _AnyContext(int):
    """Stands for a setup's context where only the shape of the URL matters: an id, or a dict with an id."""

    def __getitem__(self, key):
        return self


def _rule_of(app, method: str, url: str) -> tuple[str, str]:
    rule, _ = app.url_map.bind("localhost").match(url.split("?")[0], method=method.upper(), return_rule=True)
    return method.upper(), rule.rule


def test_every_endpoint_is_in_the_matrix_or_has_role_tests_of_its_own(app):
    from pathlib import Path

    endpoints = {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
                 for method in rule.methods - {"HEAD", "OPTIONS"}}
    in_matrix = {_rule_of(app, method, url(_AnyContext(1) if setup else None))
                 for setup, method, url, _ in ENDPOINTS.values()}
    elsewhere = set().union(*ROLE_TESTS_ELSEWHERE.values())
    assert endpoints - in_matrix - elsewhere == set(), \
        "endpoints without role tests: add rows to ENDPOINTS/EXPECTED, or list them in ROLE_TESTS_ELSEWHERE"
    assert elsewhere - endpoints == set(), "ROLE_TESTS_ELSEWHERE names endpoints that do not exist"
    assert in_matrix & elsewhere == set()
    root = Path(__file__).resolve().parents[2]
    assert all((root / name).is_file() for name in ROLE_TESTS_ELSEWHERE)
    assert set(ENDPOINTS) == set(EXPECTED)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_role_can_or_cannot_call_endpoint(people, endpoint, role_index):
    setup, method, url, body = ENDPOINTS[endpoint]
    context = setup(people) if setup else None
    caller = getattr(people, ROLES[role_index])
    payload = body(context, people) if body else None
    if isinstance(payload, Upload):
        kwargs = {"data": {"file": (io.BytesIO(payload.data), payload.name)}, "content_type": "multipart/form-data"}
    else:
        kwargs = {"json": payload} if body else {}
    response = getattr(caller, method)(url(context), **kwargs)
    expected = EXPECTED[endpoint][role_index]
    if expected == "ok":
        assert response.status_code < 300, (endpoint, ROLES[role_index], response.json)
    else:
        assert response.status_code == int(expected), (endpoint, ROLES[role_index], response.json)
        assert response.json["message"] and response.json["code"]
        if expected == "403":
            assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json["message"])


def test_operator_cannot_see_unpublished_knowledge(people):
    cr = _new_cr(people)
    assert people.operator.get(f"/api/v1/change-requests/{cr['id']}").status_code == 403
    assert people.operator.get("/api/v1/knowledge").json["total"] == 0


def test_anonymous_requests_are_refused_with_401(people):
    r = people.anonymous.get("/api/v1/knowledge")
    assert r.status_code == 401 and r.json["code"] == "unauthenticated"
    r = people.anonymous.get("/api/v1/knowledge", headers={"Authorization": "Bearer kb_not-a-real-token"})
    assert r.status_code == 401
