"""`kb backup` and `kb restore` round-trip a SQLite database and its attachment files: the restored service
answers as before.

PostgreSQL is backed up with pg_dump / pg_restore (docs/operations.md); the commands refuse it plainly.
"""
from __future__ import annotations

import io
import json
import shutil

import pytest
from click.testing import CliRunner

from service.cli import main
from tests.api.test_attachments_api import pdf_with_text


def run(url, *args, files=None):
    env = {"KB_DATABASE_URL": url, **({"KB_ATTACHMENT_DIR": str(files)} if files else {})}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _app(url, index_dir, files):
    from service.app import create_app

    return create_app({"DATABASE_URL": url, "INDEX_DIR": str(index_dir), "ATTACHMENT_DIR": str(files)})


def _answers(url, index_dir, files, token, attachment_id):
    client = _app(url, index_dir, files).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    answers = {path: client.get(path, headers=headers).json
               for path in ("/api/v1/units", "/api/v1/synonyms?limit=1000", "/api/v1/users", "/api/v1/categories")}
    download = client.get(f"/api/v1/attachments/{attachment_id}", headers=headers)
    return {**answers, "attachment": (download.status_code, download.data)}


def test_a_backup_restored_answers_what_the_service_answered_when_it_was_taken(committed_database_url, tmp_path):
    url = committed_database_url
    if not url.startswith("sqlite"):
        result = CliRunner().invoke(main, ["backup", str(tmp_path / "x.dump")], env={"KB_DATABASE_URL": url})
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    files = tmp_path / "attachments"
    run(url, "migrate")
    run(url, "create-unit", "--code", "HS", "--name", "华山街道", "--kind", "town")
    office = json.loads(run(url, "create-user", "--name", "热线办", "--role", "office_admin", "--json"))["token"]
    maintainer = json.loads(run(url, "create-user", "--name", "华山维护员", "--role", "maintainer", "--unit", "HS",
                                "--json"))["token"]
    client = _app(url, tmp_path / "live", files).test_client()
    headers = {"Authorization": f"Bearer {office}"}
    assert client.post("/api/v1/synonyms", json={"terms": ["暂住证", "居住证"]}, headers=headers).status_code == 201
    category = client.get("/api/v1/categories", headers=headers).json["items"][0]["id"]
    draft = client.post("/api/v1/change-requests", headers={"Authorization": f"Bearer {maintainer}"}, json={
        "kind": "new", "proposal": {"question": "如何办理居住证？", "answer": "携带身份证到派出所办理。",
                                    "category_id": category, "effective_on": "2026-01-01"}})
    assert draft.status_code == 201, draft.json
    upload = client.post(f"/api/v1/change-requests/{draft.json['id']}/attachments",
                         headers={"Authorization": f"Bearer {maintainer}"}, content_type="multipart/form-data",
                         data={"file": (io.BytesIO(pdf_with_text("residence permit")), "居住证办法.pdf")})
    assert upload.status_code == 201, upload.json
    attachment = upload.json["id"]
    before = _answers(url, tmp_path / "live", files, office, attachment)
    assert before["attachment"][0] == 200

    run(url, "backup", str(tmp_path / "kb-backup"), files=files)
    assert client.post("/api/v1/synonyms", json={"terms": ["低保", "最低生活保障"]}, headers=headers).status_code == 201
    run(url, "create-unit", "--code", "RSJ", "--name", "区人社局", "--kind", "department")
    shutil.rmtree(files)  # the disk that held the files is lost too
    lost = _answers(url, tmp_path / "live", files, office, attachment)
    assert lost != before and lost["attachment"][0] == 404  # said plainly (attachment_file_missing), not a 500

    out = run(url, "restore", str(tmp_path / "kb-backup"), "--yes", files=files)
    assert "restored" in out
    assert _answers(url, tmp_path / "fresh-index", files, office, attachment) == before


def test_a_backup_never_overwrites_a_file(committed_database_url, tmp_path):
    if not committed_database_url.startswith("sqlite"):
        pytest.skip("SQLite's backup")
    (tmp_path / "taken").write_text("x")
    result = CliRunner().invoke(main, ["backup", str(tmp_path / "taken")],
                                env={"KB_DATABASE_URL": committed_database_url})
    assert result.exit_code != 0 and (tmp_path / "taken").read_text() == "x"
