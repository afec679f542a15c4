"""Who may do what in the correction loop: every role against every endpoint.

A cell is "ok" (carried out), "403" (refused with a Chinese message) or
another status the role meets for a reason other than its role.
"""
from __future__ import annotations

import itertools
import re

import pytest

from tests.api.test_tasks_api import feedback, published_entry

ROLES = ("operator", "maint_a", "rev_a", "maint_b", "rev_b", "office", "scorer")


def _task(people):
    return feedback(people, published_entry(people))


def _task_and_draft(people):
    task = _task(people)
    cr = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "modify", "entry_id": task["entry_id"], "base_version": 1, "proposal": {"answer": "1. 新答案。"}}).json
    return task, cr


def _decline_requested(people):
    task = _task(people)
    people.maint_a.post(f"/api/v1/tasks/{task['id']}/decline", json={"justification": "不属于本单位"})
    return task


def _flag(people):
    entry_id = published_entry(people)
    return people.operator.post(f"/api/v1/knowledge/{entry_id}/flags", json={"kind": "suggestion", "text": "补充"}).json


_numbers = itertools.count(100)


def _policy(people):
    return people.office.post("/api/v1/policies", json={"doc_number": f"鲁政发〔2026〕{next(_numbers)}号", "title": "通知",
                                                         "issuer": "省政府", "published_on": "2026-01-01"}).json


# name -> (setup(people) -> ctx, method, url(ctx), body(ctx))
ENDPOINTS = {
    "list tasks": (None, "get", lambda c: "/api/v1/tasks", None),
    "get task of unit A": (_task, "get", lambda c: f"/api/v1/tasks/{c['id']}", None),
    "open office feedback": (None, "post", lambda c: "/api/v1/tasks",
                             lambda c: {"source": "office_feedback", "reason": "unclear", "unit_code": "HX",
                                        "detail": "表述不清"}),
    "open self-found for unit A": (None, "post", lambda c: "/api/v1/tasks",
                                   lambda c: {"source": "unit_self_found", "unit_code": "HX", "detail": "缺漏"}),
    "link a change of unit A": (_task_and_draft, "post", lambda c: f"/api/v1/tasks/{c[0]['id']}/link",
                                lambda c: {"change_request_id": c[1]["id"]}),
    "draft a fix of unit A": (_task, "post", lambda c: f"/api/v1/tasks/{c['id']}/change-requests",
                              lambda c: {"proposal": {"answer": "1. 改。"}, "base_version": 1}),
    "ask to decline": (_task, "post", lambda c: f"/api/v1/tasks/{c['id']}/decline",
                       lambda c: {"justification": "答案无误"}),
    "rule on a decline": (_decline_requested, "post", lambda c: f"/api/v1/tasks/{c['id']}/decline-ruling",
                          lambda c: {"accept": True}),
    "raise a flag": (published_entry, "post", lambda c: f"/api/v1/knowledge/{c}/flags",
                     lambda c: {"kind": "wrong_answer", "text": "地址已变"}),
    "list flags": (None, "get", lambda c: "/api/v1/flags", None),
    "triage a flag": (_flag, "post", lambda c: f"/api/v1/flags/{c['id']}/triage", lambda c: {"decision": "task"}),
    "list policies": (None, "get", lambda c: "/api/v1/policies", None),
    "register a policy": (None, "post", lambda c: "/api/v1/policies",
                          lambda c: {"doc_number": "鲁政发〔2026〕2号", "title": "通知", "issuer": "省政府",
                                     "published_on": "2026-01-01"}),
    "change a policy's status": (_policy, "post", lambda c: f"/api/v1/policies/{c['id']}/status",
                                 lambda c: {"status": "repealed"}),
    "read the calendar": (None, "get", lambda c: "/api/v1/calendar/overrides", None),
    "override a date": (None, "put", lambda c: "/api/v1/calendar/overrides/2027-01-01", lambda c: {"kind": "holiday"}),
    "confirm a year": (None, "post", lambda c: "/api/v1/calendar/years/2027/confirm", None),
    "ask for a deadline": (None, "get",
                           lambda c: "/api/v1/calendar/deadline?received=2026-09-30T10:00:00%2B08:00&days=5", None),
    "verify an entry of unit A": (published_entry, "post", lambda c: f"/api/v1/knowledge/{c}/verify", lambda c: {}),
    "list entries due for verification": (None, "get", lambda c: "/api/v1/verification/due", None),
    "read the inbox": (None, "get", lambda c: "/api/v1/inbox", None),
}

EXPECTED = {
    #                                   operator maint_a rev_a  maint_b rev_b  office scorer
    "list tasks":                        ("403", "ok",  "ok",  "ok",  "ok",  "ok",  "403"),
    "get task of unit A":                ("403", "ok",  "ok",  "403", "403", "ok",  "403"),
    "open office feedback":              ("403", "403", "403", "403", "403", "ok",  "403"),
    "open self-found for unit A":        ("403", "ok",  "ok",  "403", "403", "422", "403"),
    "link a change of unit A":           ("403", "ok",  "ok",  "403", "403", "ok",  "403"),
    "draft a fix of unit A":             ("403", "ok",  "403", "403", "403", "ok",  "403"),
    "ask to decline":                    ("403", "ok",  "ok",  "403", "403", "403", "403"),
    "rule on a decline":                 ("403", "403", "403", "403", "403", "ok",  "403"),
    "raise a flag":                      ("ok",  "403", "403", "403", "403", "403", "403"),
    "list flags":                        ("ok",  "ok",  "ok",  "ok",  "ok",  "ok",  "403"),
    "triage a flag":                     ("403", "403", "403", "403", "403", "ok",  "403"),
    "list policies":                     ("ok",  "ok",  "ok",  "ok",  "ok",  "ok",  "403"),
    "register a policy":                 ("403", "403", "403", "403", "403", "ok",  "403"),
    "change a policy's status":          ("403", "403", "403", "403", "403", "ok",  "403"),
    "read the calendar":                 ("ok",  "ok",  "ok",  "ok",  "ok",  "ok",  "ok"),
    "override a date":                   ("403", "403", "403", "403", "403", "ok",  "403"),
    "confirm a year":                    ("403", "403", "403", "403", "403", "ok",  "403"),
    "ask for a deadline":                ("ok",  "ok",  "ok",  "ok",  "ok",  "ok",  "ok"),
    "verify an entry of unit A":         ("403", "403", "ok",  "403", "403", "ok",  "403"),
    "list entries due for verification": ("403", "ok",  "ok",  "ok",  "ok",  "ok",  "403"),
    "read the inbox":                    ("ok",  "ok",  "ok",  "ok",  "ok",  "ok",  "403"),
}


def _template(path: str) -> str:
    return re.sub(r"/(\{[^}]+\}|\d[\d-]*)(?=/|$)", "/{}", path.split("?")[0])


def test_the_matrix_covers_every_endpoint_of_the_correction_loop(app):
    spec = app.test_client().get("/openapi.json").json
    prefixes = ("/api/v1/tasks", "/api/v1/flags", "/api/v1/policies", "/api/v1/calendar", "/api/v1/inbox",
                "/api/v1/verification")
    ours = {(method, _template(path)) for path, ops in spec["paths"].items() for method in ops
            if method in ("get", "post", "put", "patch", "delete")
            and (path.startswith(prefixes) or path.endswith(("/flags", "/verify")))}
    sample = {"id": 1, "entry_id": 1}
    covered = {(method, _template(url((sample, sample) if "link" in name else sample if setup else None)))
               for name, (setup, method, url, _) in ENDPOINTS.items()}
    # Reading one flag or policy, correcting a policy and removing an override are tested with their resources.
    assert ours - covered == {("get", "/api/v1/flags/{}"), ("get", "/api/v1/policies/{}"),
                              ("patch", "/api/v1/policies/{}"), ("delete", "/api/v1/calendar/overrides/{}")}
    assert covered <= ours
    assert set(ENDPOINTS) == set(EXPECTED)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_each_role_can_or_cannot_call_the_endpoint(people, endpoint):
    setup, method, url, body = ENDPOINTS[endpoint]
    for role, expected in zip(ROLES, EXPECTED[endpoint]):
        context = setup(people) if setup else None
        kwargs = {"json": body(context)} if body else {}
        response = getattr(getattr(people, role), method)(url(context), **kwargs)
        if expected == "ok":
            assert response.status_code < 300, (endpoint, role, response.json)
        else:
            assert response.status_code == int(expected), (endpoint, role, response.json)
            if expected == "403":
                assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json["message"]), (endpoint, role)
