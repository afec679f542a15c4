"""One API contract: every list is {items, total} with limit/offset honoured; every time is RFC 3339 at +08:00."""
from __future__ import annotations

import re

import pytest

from tests.api.test_tasks_api import feedback, published_entry
from tests.api.test_workflow_api import new_draft

MOMENT = re.compile(r'"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})?"')


def _synonyms(people, n):
    for i in range(n):
        r = people.office.post("/api/v1/synonyms", json={"terms": [f"口语{i}", f"规范{i}"]})
        assert r.status_code == 201, r.json


def test_synonyms_are_a_page_and_limit_is_honoured(people):
    _synonyms(people, 3)
    everything = people.operator.get("/api/v1/synonyms").json
    assert set(everything) == {"items", "total"} and everything["total"] >= 3
    two = people.operator.get("/api/v1/synonyms?limit=2").json
    assert len(two["items"]) == 2 and two["total"] == everything["total"]
    rest = people.operator.get("/api/v1/synonyms?limit=2&offset=2").json["items"]
    assert [g["id"] for g in two["items"] + rest] == [g["id"] for g in everything["items"]][:2 + len(rest)]


def test_webhooks_and_tokens_are_pages(people):
    for i in range(3):
        r = people.office.post("/api/v1/webhooks", json={"url": f"https://s{i}.example.cn/kb", "events": ["task.overdue"]})
        assert r.status_code == 201, r.json
    page = people.office.get("/api/v1/webhooks?limit=1&offset=1").json
    assert page["total"] == 3 and [s["url"] for s in page["items"]] == ["https://s1.example.cn/kb"]
    user_id = people.operator.actor.user_id
    people.office.post(f"/api/v1/users/{user_id}/tokens", json={"label": "备用"})
    tokens = people.office.get(f"/api/v1/users/{user_id}/tokens?limit=1").json
    assert tokens["total"] == 2 and len(tokens["items"]) == 1


def test_related_hot_and_gaps_are_pages(people):
    first = published_entry(people, question="华山街道哪里办理居住证？", keywords=["居住证"])
    published_entry(people, question="居住证到期了怎么续签？", keywords=["居住证"])
    published_entry(people, question="居住证丢了怎么补办？", keywords=["居住证"])
    related = people.operator.get(f"/api/v1/knowledge/{first}/related").json
    assert set(related) == {"items", "total"} and related["total"] == 2
    one = people.operator.get(f"/api/v1/knowledge/{first}/related?limit=1&offset=1").json
    assert one["total"] == 2 and [h["entry_id"] for h in one["items"]] == [related["items"][1]["entry_id"]]
    for entry_id in (first, first):
        people.operator.post(f"/api/v1/knowledge/{entry_id}/usages", json={})
    hot = people.operator.get("/api/v1/search/hot?limit=1").json
    assert set(hot) == {"items", "total"} and hot["items"][0]["entry_id"] == first
    for query in ("出国签证材料", "无人机登记", "养犬证"):  # nothing near by words or by meaning
        people.operator.get("/api/v1/search", query_string={"q": query})
    gaps = people.office.get("/api/v1/search/gaps?limit=2").json
    assert gaps["total"] >= 3 and len(gaps["items"]) == 2
    assert people.office.get("/api/v1/search/gaps?offset=2&limit=2").json["items"][0]["query_key"] not in {
        g["query_key"] for g in gaps["items"]}


def test_every_moment_in_the_answers_is_at_plus_eight(people, app):
    entry_id = published_entry(people)
    task = feedback(people, entry_id)
    draft = new_draft(people)
    people.operator.post(f"/api/v1/knowledge/{entry_id}/flags", json={"kind": "suggestion", "text": "补充办理时间"})
    people.office.post("/api/v1/webhooks", json={"url": "https://s.example.cn/kb", "events": ["task.overdue"]})
    people.office.post("/api/v1/synonyms", json={"terms": ["居住证", "暂住证"]})
    urls = [(people.maint_a, f"/api/v1/change-requests/{draft['id']}"), (people.office, "/api/v1/change-requests"),
            (people.office, f"/api/v1/knowledge/{entry_id}"), (people.office, f"/api/v1/knowledge/{entry_id}/versions"),
            (people.office, "/api/v1/knowledge"), (people.office, f"/api/v1/tasks/{task['id']}"),
            (people.office, "/api/v1/flags"), (people.office, "/api/v1/audit-events"), (people.office, "/api/v1/webhooks"),
            (people.operator, "/api/v1/synonyms"), (people.office, f"/api/v1/users/{people.operator.actor.user_id}/tokens"),
            (people.maint_a, "/api/v1/inbox"), (people.office, "/api/v1/policies"),
            (people.scorer, "/api/v1/compliance?period=2026-10"), (people.operator, "/api/v1/search?q=居住证"),
            (people.operator, "/api/v1/knowledge?q=居住证"), (people.operator, f"/api/v1/knowledge/{entry_id}/related")]
    seen = 0
    for caller, url in urls:
        r = caller.get(url)
        assert r.status_code == 200, (url, r.json)
        for moment, offset in MOMENT.findall(r.get_data(as_text=True)):
            assert offset == "+08:00", (url, moment, offset)
            seen += 1
    assert seen > 20


def test_the_cli_prints_moments_at_plus_eight():
    import json
    from datetime import datetime, timezone

    from service.cli import _echo_json

    from click.testing import CliRunner
    import click

    @click.command()
    def show():
        _echo_json({"at": datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)})

    out = CliRunner().invoke(show).output
    assert json.loads(out) == {"at": "2026-11-02T10:00:00+08:00"}


@pytest.mark.parametrize("url", ["/api/v1/synonyms?limit=0", "/api/v1/webhooks?limit=1001", "/api/v1/search/hot?offset=-1"])
def test_paging_arguments_out_of_range_are_a_422(people, url):
    assert people.office.get(url).status_code == 422


def test_the_documented_error_shape_is_the_one_sent(app):
    spec = app.test_client().get("/openapi.json").json
    error = spec["components"]["schemas"]["Error"]["properties"]
    assert error["code"]["type"] == "string" and error["status"]["type"] == "integer"
    for name in ("base_version", "current_version", "revision", "current_revision", "state"):
        assert name in error, name  # the extra fields of 409 bodies
    conflict = spec["paths"]["/api/v1/change-requests/{cr_id}"]["patch"]["responses"]["409"]
    assert conflict["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    unprocessable = spec["paths"]["/api/v1/units"]["post"]["responses"]["422"]
    assert unprocessable["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_a_405_names_the_allowed_methods(people):
    r = people.office.delete("/api/v1/units")
    assert r.status_code == 405 and r.json["code"] == "method_not_allowed" and r.json["status"] == 405
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_details_never_overwrite_the_shapes_own_fields():
    """A domain error whose details name `status` keeps the HTTP status there (it was a TypeError: a 500)."""
    from flask import Flask

    from kb.errors import InvalidTransition
    from service import errors

    app = Flask(__name__)
    errors.register(app)

    @app.get("/x")
    def refuse():
        raise InvalidTransition("已下架的知识无需校核", details={"status": "withdrawn", "state": "withdrawn"})

    r = app.test_client().get("/x")
    assert r.status_code == 409 and r.json == {"code": "invalid_transition", "status": 409,
                                               "message": "已下架的知识无需校核", "state": "withdrawn"}


@pytest.mark.parametrize("caller, url", [
    ("office", "/api/v1/units"), ("office", "/api/v1/users"), ("operator", "/api/v1/categories"),
    ("office", "/api/v1/audit-events"), ("scorer", "/api/v1/compliance/closed-months"),
    ("scorer", "/api/v1/scoring-profiles"), ("operator", "/api/v1/synonyms"), ("office", "/api/v1/webhooks"),
    ("office", "/api/v1/search/gaps"), ("operator", "/api/v1/search/hot"),
])
def test_every_list_is_items_and_total_and_honours_limit(people, caller, url):
    people.office.post("/api/v1/synonyms", json={"terms": ["甲", "乙"]})
    people.office.post("/api/v1/synonyms", json={"terms": ["丙", "丁"]})
    whole = getattr(people, caller).get(url).json
    assert set(whole) == {"items", "total"}, whole
    one = getattr(people, caller).get(url, query_string={"limit": 1}).json
    assert one["total"] == whole["total"] and len(one["items"]) == min(1, whole["total"])


def test_versions_of_an_entry_are_a_page(people):
    entry_id = published_entry(people)
    versions = people.office.get(f"/api/v1/knowledge/{entry_id}/versions?limit=1&offset=0").json
    assert versions["total"] == 1 and [v["number"] for v in versions["items"]] == [1]
