"""The `kb` command as an administrator uses it."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from service.cli import main
from tests.support.databases import fresh_postgres_database


def run(url, *args):
    result = CliRunner().invoke(main, list(args), env={"KB_DATABASE_URL": url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def fails(url, exit_code, *args) -> str:
    """The command fails with one line on stderr, Chinese with the English gist, and no traceback."""
    result = CliRunner().invoke(main, list(args), env={"KB_DATABASE_URL": url}, catch_exceptions=False)
    assert result.exit_code == exit_code, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kb: "), result.stderr
    assert any("\u4e00" <= ch <= "\u9fff" for ch in lines[0]) and "error: " in lines[0], lines[0]
    assert "Traceback" not in result.output and not result.stdout.strip()
    return lines[0]


@pytest.fixture
def unmigrated_database_url(database_url, tmp_path):
    """An empty database of its own: nobody has run `kb migrate` on it."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    from sqlalchemy.engine import make_url

    server = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    with fresh_postgres_database(server) as url:
        yield url


def test_migrate_then_demo_prints_one_user_per_role_with_tokens(committed_database_url, tmp_path):
    run(committed_database_url, "migrate")
    users = [json.loads(line) for line in run(committed_database_url, "demo", "--json").splitlines()]
    assert {u["role"] for u in users} == {"operator", "maintainer", "unit_reviewer", "office_admin", "scorer"}
    assert all(u["token"].startswith("kb_") for u in users)
    assert len({u["unit_code"] for u in users if u["unit_code"]}) >= 10
    assert "already loaded" in CliRunner().invoke(
        main, ["demo", "--if-empty"], env={"KB_DATABASE_URL": committed_database_url}).stderr
    line = fails(committed_database_url, 1, "demo")
    assert "演示数据已加载" in line and "--if-empty" in line and "already loaded" in line

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


def test_a_duplicate_unit_is_one_clear_line_and_status_1(committed_database_url):
    run(committed_database_url, "create-unit", "--code", "GS", "--name", "供水公司", "--kind", "company")
    line = fails(committed_database_url, 1, "create-unit", "--code", "GS", "--name", "供水公司", "--kind", "company")
    assert "已存在" in line and "already exists" in line


def test_a_maintainer_without_unit_or_with_an_unknown_one_is_a_usage_error(committed_database_url):
    line = fails(committed_database_url, 2, "create-user", "--name", "张三", "--role", "maintainer")
    assert "--unit" in line and "必须属于一个单位" in line
    line = fails(committed_database_url, 2, "create-user", "--name", "张三", "--role", "maintainer", "--unit", "NOPE")
    assert "NOPE" in line and "no such unit" in line
    line = fails(committed_database_url, 2, "create-unit", "--code", "ZX", "--name", "中心", "--kind", "other",
                 "--parent", "NOPE")
    assert "NOPE" in line and "--parent" in line


@pytest.mark.parametrize("args", [
    ("create-unit", "--code", "GS", "--name", "供水公司", "--kind", "company"),
    ("create-user", "--name", "李四", "--role", "operator"),
    ("issue-token", "--role", "operator"),
    ("demo",),
])
def test_any_command_before_migrate_says_to_run_kb_migrate(unmigrated_database_url, args):
    line = fails(unmigrated_database_url, 1, *args)
    assert "kb migrate" in line and "尚未建表" in line
