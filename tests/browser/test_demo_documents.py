"""The demo as a new user meets it: `kb migrate` and `kb demo` on a fresh database close the demo's
ended months and issue a supervision notice, so the office's monthly 通报 and 督办通知 have real figures.
Their screenshots are the README's."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kb import compliance
from tests.browser.conftest import CHROMIUM, _clock, log_in, screenshot


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory, browser):
    from werkzeug.serving import make_server

    from service.app import create_app

    folder = tmp_path_factory.mktemp("demo")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "KB_DATABASE_URL": f"sqlite:///{folder / 'kb.sqlite3'}", "KB_INDEX_DIR": str(folder / "index"),
           "PYTHONPATH": str(root)}
    for command in (["migrate"], ["demo", "--json"]):
        subprocess.run([sys.executable, "-c", "from service.cli import main; main()", *command], env=env, check=True,
                       capture_output=True,
                       timeout=600, cwd=folder)
    app = create_app({"DATABASE_URL": env["KB_DATABASE_URL"], "INDEX_DIR": env["KB_INDEX_DIR"],
                      "SECRET_KEY": "demo-tests"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_demos_last_closed_month_has_a_bulletin_and_a_notice(demo_site, browser):
    assert CHROMIUM
    context = browser.new_context(base_url=demo_site, locale="zh-CN", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    log_in(page, "office")
    period = compliance.last_ended_month(_clock())
    page.goto(f"/office/bulletin?period={period.label}")
    rows = page.locator("#bulletin table tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 10  # every demo unit, ranked
    assert any(float(p.split("/")[0]) > 0 for p in rows.locator("td:nth-child(3)").all_inner_texts())
    screenshot(page, "demo-bulletin")
    page.goto("/notices")
    page.locator("#notice-list a").first.click()
    expect(page.locator("#notice .form-table")).to_contain_text("督（")
    screenshot(page, "demo-notice")
    context.close()
