"""`kb import FILE --unit CODE`: the same checks and report as the API, from the command line."""
from __future__ import annotations

import json

from click.testing import CliRunner

from service.cli import main
from tests.api.test_import_export_api import row, xlsx
from tests.integration.test_cli import fails, run


def _invoke(url, *args):
    return CliRunner().invoke(main, list(args), env={"KB_DATABASE_URL": url}, catch_exceptions=False)


def test_kb_import_dry_run_then_for_real_then_a_bad_file(committed_database_url, tmp_path):
    url = committed_database_url
    run(url, "migrate")
    run(url, "create-unit", "--code", "GS", "--name", "供水公司", "--kind", "company")
    run(url, "create-user", "--name", "张三", "--role", "maintainer", "--unit", "GS")
    good = tmp_path / "知识.xlsx"
    good.write_bytes(xlsx([row("停水了找谁？"), row("水费怎么交？")]))

    report = json.loads(run(url, "import", str(good), "--unit", "GS", "--dry-run"))
    assert report["dry_run"] and report["valid"] and report["rows"] == 2
    report = json.loads(run(url, "import", str(good), "--unit", "GS", "--submit"))
    assert [c["state"] for c in report["created"]] == ["unit_review", "unit_review"]
    assert all(c["change_request_id"] for c in report["created"])

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([row("停电了找谁？", **{"类目*": "没有这个类目"})]))
    result = _invoke(url, "import", str(bad), "--unit", "GS")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"][0]["column"] == "类目"
    assert result.stderr.startswith("kb: 1 行数据有误") and "nothing was imported" in result.stderr

    line = fails(url, 2, "import", str(good), "--unit", "NOPE")
    assert "NOPE" in line
