"""`kb demo` as a newcomer sees it: months of history, so every list, inbox and count has something in it."""
from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from kb.migrate import upgrade
from service.cli import main
from tests.support.databases import fresh_postgres_database

OUTCOMES = {"resolved_on_time", "resolved_late", "open_overdue", "open", "declined"}


def run(url, *args):
    result = CliRunner().invoke(main, list(args), env={"KB_DATABASE_URL": url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@contextmanager
def _database_of_its_own(database_url, folder):
    """A migrated database whose commits are real (the CLI commits), on the same server as `database_url`."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{folder / 'demo.sqlite3'}"
        upgrade(url)
        yield url
        return
    from sqlalchemy.engine import make_url

    server = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    with fresh_postgres_database(server) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def demo(database_url, tmp_path_factory):
    """The demo loaded once per database: (test client, tokens by "role" or "role/UNIT")."""
    from service.app import create_app

    folder = tmp_path_factory.mktemp("demo")
    with _database_of_its_own(database_url, folder) as url:
        users = [json.loads(line) for line in run(url, "demo", "--json").splitlines()]
        tokens = {u["role"] + (f"/{u['unit_code']}" if u["unit_code"] else ""): u["token"] for u in users}
        app = create_app({"DATABASE_URL": url, "INDEX_DIR": str(folder / "index")})
        yield app.test_client(), tokens


def get(client, token, path):
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.json
    return response.json


def every(client, token, path):
    items, offset = [], 0
    while True:
        page = get(client, token, f"{path}{'&' if '?' in path else '?'}limit=200&offset={offset}")
        items += page["items"]
        offset += 200
        if offset >= page["total"]:
            return items


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def test_the_demo_has_change_requests_of_every_kind_in_every_state(demo):
    client, tokens = demo
    requests = every(client, tokens["office_admin"], "/api/v1/change-requests")
    assert {cr["kind"] for cr in requests} == {"new", "modify", "delete", "revoke", "suggestion"}
    assert {cr["state"] for cr in requests} == {
        "draft", "unit_review", "office_review", "returned", "published", "cancelled"}
    published = {cr["kind"] for cr in requests if cr["state"] == "published"}
    assert {"new", "modify", "delete", "revoke"} <= published
    assert any(cr["published_version"] == 3 for cr in requests), "an entry modified twice has three versions"
    assert any(cr["published_directly"] for cr in requests), "an emergency fix published straight away"
    created = sorted(cr["created_at"] for cr in requests)
    assert date.fromisoformat(created[0][:10]) < today() - timedelta(days=90), "history spread over months"


def test_the_demo_has_tasks_from_every_source_in_every_outcome(demo):
    client, tokens = demo
    tasks = every(client, tokens["office_admin"], "/api/v1/tasks")
    assert {t["outcome"] for t in tasks} == OUTCOMES
    assert {t["source"] for t in tasks} >= {"office_feedback", "city_notice", "unit_self_found", "emergency",
                                             "operator_suggestion", "policy_change"}
    assert {t["reason"] for t in tasks if t["source"] == "office_feedback"} >= {
        "unclear", "incomplete", "contradictory", "regulation_conflict", "cites_repealed"}
    assert {t["state"] for t in tasks} >= {"open", "in_progress", "decline_requested", "resolved", "declined"}
    policy_task = next(t for t in tasks if t["source"] == "policy_change")
    assert policy_task["unit_code"] == "YBJ" and policy_task["outcome"] == "open"
    inbox = get(client, tokens["office_admin"], "/api/v1/inbox")
    for waiting in ("change_requests", "tasks_overdue", "flags_to_triage", "declines_to_rule"):
        assert inbox[waiting], waiting


def test_operators_flags_were_passed_on_dismissed_or_are_waiting(demo):
    client, tokens = demo
    flags = every(client, tokens["office_admin"], "/api/v1/flags")
    assert {f["state"] for f in flags} == {"pending", "accepted", "dismissed"}
    assert {"fixed", "declined", "in_task", "dismissed", "pending"} <= {f["fate"] for f in flags}
    assert all(f["triage_reason"] for f in flags if f["state"] == "dismissed")
    policies = get(client, tokens["office_admin"], "/api/v1/policies?limit=50")["items"]
    assert {p["status"] for p in policies} == {"in_force", "repealed"}
    hot = get(client, tokens["operator"], "/api/v1/search/hot?days=180")["items"]
    assert hot and hot[0]["usages"] > 1


def test_compliance_over_the_demo_counts_every_kind_of_work_and_every_task_outcome(demo):
    client, tokens = demo
    start = today() - timedelta(days=180)
    units = get(client, tokens["scorer"], f"/api/v1/compliance?from={start}&to={today()}")["units"]
    totals = {key: sum(u[key] for u in units) for key in (
        "uploads_qa", "modifications", "deletions", "revocations", "verifications", "usages",
        "usages_confirmed_wrong", "suggestions_received")}
    assert all(totals.values()), totals
    tallies = [t for u in units for t in u["tasks_by_source"].values()]
    for outcome in ("received", "resolved_on_time", "resolved_late", "open_overdue", "declined"):
        assert sum(t[outcome] for t in tallies), outcome


def test_last_months_compliance_and_this_years_scores_are_not_empty(demo):
    client, tokens = demo
    first = today().replace(day=1)
    last_month = (first - timedelta(days=1)).strftime("%Y-%m")
    units = get(client, tokens["scorer"], f"/api/v1/compliance?period={last_month}")["units"]
    assert any(u["usages"] for u in units)
    assert any(any(t["received"] for t in u["tasks_by_source"].values()) for u in units)
    scores = get(client, tokens["scorer"], f"/api/v1/scores?profile=nankang-2023&period={today().year}")
    assert scores["units"]


def test_the_readme_walk_through_gets_change_request_261_and_entry_157(demo):
    client, tokens = demo

    def post(token, path, body):
        response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (200, 201), response.json
        return response.json

    maintainer, reviewer = tokens["maintainer/HS"], tokens["unit_reviewer/HS"]
    cr = post(maintainer, "/api/v1/change-requests", {"kind": "new", "proposal": {
        "question": "华山街道哪里可以办理居住证？", "similar_questions": ["华山居住证在哪办"],
        "answer": "1. 办理地点：华山街道便民服务中心。\n2. 材料：身份证、租赁合同。", "keywords": ["居住证"],
        "category_id": 3, "effective_on": "2026-01-01", "policy_number": "鲁政办字[2021]126号"}})
    assert cr["id"] == 261 and cr["state"] == "draft"
    post(maintainer, f"/api/v1/change-requests/{cr['id']}/submit", {})
    post(reviewer, f"/api/v1/change-requests/{cr['id']}/unit-review", {"approve": True, "checks": {
        "no_typos": True, "clear": True, "answer_matches": True, "accurate_with_basis": True}})
    published = post(tokens["office_admin"], f"/api/v1/change-requests/{cr['id']}/office-review",
                     {"decision": "publish"})
    assert published["state"] == "published" and published["entry_id"] == 157
