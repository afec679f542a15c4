"""The `kb` command as an administrator uses it."""
from __future__ import annotations

import json

from click.testing import CliRunner

from service.cli import main


def run(url, *args):
    result = CliRunner().invoke(main, list(args), env={"KB_DATABASE_URL": url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_migrate_then_demo_prints_one_user_per_role_with_tokens(committed_database_url, tmp_path):
    run(committed_database_url, "migrate")
    users = [json.loads(line) for line in run(committed_database_url, "demo", "--json").splitlines()]
    assert {u["role"] for u in users} == {"operator", "maintainer", "unit_reviewer", "office_admin", "scorer"}
    assert all(u["token"].startswith("kb_") for u in users)
    assert len({u["unit_code"] for u in users if u["unit_code"]}) >= 10
    assert "already loaded" in CliRunner().invoke(
        main, ["demo", "--if-empty"], env={"KB_DATABASE_URL": committed_database_url}).stderr

    from service.app import create_app
    app = create_app({"DATABASE_URL": committed_database_url, "INDEX_DIR": str(tmp_path / "index")})
    operator = next(u for u in users if u["role"] == "operator")
    listing = app.test_client().get("/api/v1/knowledge?limit=1",
                                    headers={"Authorization": f"Bearer {operator['token']}"}).json
    assert listing["total"] >= 100
    office = next(u for u in users if u["role"] == "office_admin")
    states = {cr["state"] for cr in app.test_client().get(
        "/api/v1/change-requests?limit=200", headers={"Authorization": f"Bearer {office['token']}"}).json["items"]}
    assert {"draft", "unit_review", "office_review", "returned", "published"} <= states


def test_create_unit_and_user_print_the_token_once(committed_database_url):
    run(committed_database_url, "migrate")
    run(committed_database_url, "create-unit", "--code", "GS", "--name", "供水公司", "--kind", "company")
    user = json.loads(run(committed_database_url, "create-user", "--name", "张三", "--role", "maintainer",
                          "--unit", "GS", "--json"))
    assert user["unit_code"] == "GS" and user["token"].startswith("kb_")
    token = run(committed_database_url, "issue-token", "--role", "maintainer", "--unit", "GS").strip()
    assert token.startswith("kb_") and token != user["token"]
