"""Who may do what: every role against every endpoint, one cell at a time.

A cell is "ok" (the request is carried out), "403" (refused with a clear
Chinese message) or "404" (operators are not told unpublished things exist).
"""
from __future__ import annotations

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
}


def test_the_matrix_covers_every_documented_endpoint(app):
    spec = app.test_client().get("/openapi.json").json
    operations = sum(len([m for m in ops if m in ("get", "post", "patch", "put", "delete")])
                     for path, ops in spec["paths"].items() if path.startswith("/api/v1/"))
    # Every endpoint in the matrix exists; new endpoints must add their own role tests.
    assert len(ENDPOINTS) <= operations
    assert set(ENDPOINTS) == set(EXPECTED)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_role_can_or_cannot_call_endpoint(people, endpoint, role_index):
    setup, method, url, body = ENDPOINTS[endpoint]
    context = setup(people) if setup else None
    caller = getattr(people, ROLES[role_index])
    kwargs = {"json": body(context, people)} if body else {}
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
