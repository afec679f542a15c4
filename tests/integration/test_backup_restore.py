"""`kb backup` and `kb restore` round-trip a SQLite database: the restored service answers as before.

PostgreSQL is backed up with pg_dump / pg_restore (docs/operations.md); the commands refuse it plainly.
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from service.cli import main


def run(url, *args):
    result = CliRunner().invoke(main, list(args), env={"KB_DATABASE_URL": url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _answers(url, index_dir, token):
    from service.app import create_app

    client = create_app({"DATABASE_URL": url, "INDEX_DIR": str(index_dir)}).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    return {path: client.get(path, headers=headers).json
            for path in ("/api/v1/units", "/api/v1/synonyms?limit=1000", "/api/v1/users", "/api/v1/categories")}


def test_a_backup_restored_answers_what_the_service_answered_when_it_was_taken(committed_database_url, tmp_path):
    url = committed_database_url
    if not url.startswith("sqlite"):
        result = CliRunner().invoke(main, ["backup", str(tmp_path / "x.dump")], env={"KB_DATABASE_URL": url})
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    run(url, "migrate")
    run(url, "create-unit", "--code", "HS", "--name", "华山街道", "--kind", "town")
    office = json.loads(run(url, "create-user", "--name", "热线办", "--role", "office_admin", "--json"))["token"]
    from service.app import create_app
    client = create_app({"DATABASE_URL": url, "INDEX_DIR": str(tmp_path / "live")}).test_client()
    headers = {"Authorization": f"Bearer {office}"}
    assert client.post("/api/v1/synonyms", json={"terms": ["暂住证", "居住证"]}, headers=headers).status_code == 201
    before = _answers(url, tmp_path / "live", office)

    run(url, "backup", str(tmp_path / "kb-backup.sqlite3"))
    assert client.post("/api/v1/synonyms", json={"terms": ["低保", "最低生活保障"]}, headers=headers).status_code == 201
    run(url, "create-unit", "--code", "RSJ", "--name", "区人社局", "--kind", "department")
    assert _answers(url, tmp_path / "live", office) != before

    out = run(url, "restore", str(tmp_path / "kb-backup.sqlite3"), "--yes")
    assert "restored" in out
    assert _answers(url, tmp_path / "fresh-index", office) == before


def test_a_backup_never_overwrites_a_file(committed_database_url, tmp_path):
    if not committed_database_url.startswith("sqlite"):
        pytest.skip("SQLite's backup")
    (tmp_path / "taken").write_text("x")
    result = CliRunner().invoke(main, ["backup", str(tmp_path / "taken")],
                                env={"KB_DATABASE_URL": committed_database_url})
    assert result.exit_code != 0 and (tmp_path / "taken").read_text() == "x"
