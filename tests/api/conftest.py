from __future__ import annotations

from dataclasses import dataclass

import pytest

from service.app import create_app
from tests.support.factories import World


@pytest.fixture
def world(session_factory, clock):
    return World(session_factory, clock)


@pytest.fixture
def app(engine, session_factory, clock, tmp_path):
    config = {"ENGINE": engine, "SESSION_FACTORY": session_factory, "CLOCK": clock,
              "INDEX_DIR": str(tmp_path / "index"), "TESTING": True,
              "ATTACHMENT_DIR": str(tmp_path / "attachments"),
              # each search's log row written by that search: every request here shares one connection
              "SEARCH_LOG_BATCH": 1, "SEARCH_LOG_IN_BACKGROUND": False}
    try:
        return create_app(config)
    except SystemError as exc:
        # CPython 3.11.7 (gh-106905, fixed in later releases): an unrelated error raised while ast.parse
        # builds a tree, which werkzeug runs for every route as the app is built, surfaces as "AST
        # constructor recursion depth mismatch". Seen once in ~2,700 app builds; a second build is clean.
        if "recursion depth mismatch" not in str(exc):
            raise
        return create_app({**config, "INDEX_DIR": str(tmp_path / "index-again")})


@dataclass
class Caller:
    """A test client that speaks as one user."""

    client: object
    token: str
    actor: object = None

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, url, headers=None, **kw):
        return self.client.get(url, headers=self._headers(headers), **kw)

    def post(self, url, json=None, headers=None, **kw):
        return self.client.post(url, json=json, headers=self._headers(headers), **kw)

    def patch(self, url, json=None, headers=None, **kw):
        return self.client.patch(url, json=json, headers=self._headers(headers), **kw)

    def put(self, url, json=None, headers=None, **kw):
        return self.client.put(url, json=json, headers=self._headers(headers), **kw)

    def delete(self, url, headers=None, **kw):
        return self.client.delete(url, headers=self._headers(headers), **kw)


@pytest.fixture
def people(app, world):
    """Two units with a maintainer and reviewer each, the office, an operator and the scorer."""
    cats = world.seed_categories()
    unit_a = world.make_unit("HX", "华山街道办事处", "town")
    unit_b = world.make_unit("RSJ", "区人力资源和社会保障局", "department")
    client = app.test_client()
    out = {"categories": cats, "unit_a": unit_a, "unit_b": unit_b}
    for key, role, unit in (("maint_a", "maintainer", unit_a), ("rev_a", "unit_reviewer", unit_a),
                            ("maint_b", "maintainer", unit_b), ("rev_b", "unit_reviewer", unit_b),
                            ("office", "office_admin", None), ("operator", "operator", None),
                            ("scorer", "scorer", None)):
        actor, token = world.make_user(role, unit)
        out[key] = Caller(client, token, actor)
    out["anonymous"] = client
    return type("People", (), out)
