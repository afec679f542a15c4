"""Browser tests: the console in a real Chromium (Debian's package), driven by Playwright for Python.

The service runs in a thread on a loopback port, on a SQLite database of its own made by the
migrations. Where /usr/bin/chromium is missing these tests are skipped with a loud warning,
except under CI=true, where that is a failure (.ci/run installs the package first).
"""
from __future__ import annotations

import os
import shutil
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kb.db import make_engine, make_session_factory
from kb.demo import DEMO_PASSWORD
from kb.migrate import upgrade
from kb.services import directory
from kb.services.changes import ChangeRequestSnapshot
from tests.support.factories import World

ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("KB_TEST_CHROMIUM", "/usr/bin/chromium")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screens"
PASSWORD = DEMO_PASSWORD


def _require_chromium() -> None:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).is_file():
        return
    message = f"BROWSER TESTS NOT RUN: no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    if ON_CI:
        pytest.fail(message + " (CI=true requires them)", pytrace=False)
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


def _clock() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Site:
    url: str
    world: World
    units: dict
    users: dict  # key → (username, actor)
    categories: dict
    app: object

    def user(self, key: str) -> str:
        return self.users[key][0]


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The service on a loopback port with two units, one log-in per role, and the Art. 4 categories."""
    _require_chromium()
    from werkzeug.serving import make_server

    from service.app import create_app

    folder = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{folder / 'kb.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    world = World(factory, _clock)
    cats = world.seed_categories()
    units = {"HX": world.make_unit("HX", "华山街道办事处", "town"),
             "RSJ": world.make_unit("RSJ", "区人力资源和社会保障局", "department")}
    users = {}
    for key, role, unit in (("operator", "operator", None), ("office", "office_admin", None),
                            ("maint_hx", "maintainer", "HX"), ("rev_hx", "unit_reviewer", "HX"),
                            ("maint_rsj", "maintainer", "RSJ"), ("spare", "operator", None)):
        username = key.replace("_", "-")
        user, _ = directory.create_user(world.uow(), None, name=f"{key}用户", role=role, unit_code=unit,
                                        now=_clock(), username=username, password=PASSWORD)
        from kb.access import Actor
        from kb.models import Role
        users[key] = (username, Actor(user_id=user.id, role=Role(role),
                                      unit_id=units[unit].id if unit else None, name=user.name))
    app = create_app({"ENGINE": engine, "SESSION_FACTORY": factory, "INDEX_DIR": str(folder / "index"),
                      "SECRET_KEY": "browser-tests", "SEARCH_LOG_BATCH": 1, "SEARCH_LOG_IN_BACKGROUND": False,
                      "LOGIN_MAX_FAILURES": 3})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{server.server_port}", world, units, users, cats, app)
    server.shutdown()
    engine.dispose()


@pytest.fixture(scope="session")
def browser(site):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # a busy 2-core machine: patience, not a looser assertion
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, site):
    """A fresh browser (cookies of its own) per call: several people in one test."""
    contexts = []

    def make(key: str | None = None):
        context = browser.new_context(base_url=site.url, locale="zh-CN", viewport={"width": 1280, "height": 860})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        if key:
            log_in(page, site.user(key))
        return page

    yield make
    for context in contexts:
        context.close()


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def screenshot(page, name: str) -> None:
    """The main pages, for docs/screens and the README."""
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=False)


def published(site: Site, *, question: str, answer: str, keywords: list[str],
              similar: list[str] | None = None) -> ChangeRequestSnapshot:
    """A published entry of 华山街道 (HX), through the use cases: collect → unit review → office publish."""
    maint, rev, office = (site.users[k][1] for k in ("maint_hx", "rev_hx", "office"))
    view = site.world.publish_new(maint, rev, office, site.categories["社会民生"], question=question, answer=answer,
                                  keywords=keywords, similar_questions=similar or [])
    # Applied now, as the API's publish does for its publisher: the server's request threads share one
    # index, and a search racing this catch-up from another thread could read the generation before it.
    site.app.extensions["kb"].search.catch_up()
    return view
