from __future__ import annotations

import pytest

from kb.migrate import upgrade
from tests.support.databases import fresh_postgres_database


@pytest.fixture
def committed_database_url(database_url, tmp_path):
    """A migrated database of its own whose commits are real, for tests with several processes."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'committed.sqlite3'}"
        upgrade(url)
        yield url
        return
    from sqlalchemy.engine import make_url

    server = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    with fresh_postgres_database(server) as url:
        upgrade(url)
        yield url
