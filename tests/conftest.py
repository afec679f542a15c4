"""Fixtures shared by every tier.

Database tests run twice, on SQLite and on PostgreSQL: the `database_url`
fixture is parametrized. Each test runs inside a transaction that is rolled
back (the SQLAlchemy "join into an external transaction" recipe), so use cases
commit savepoints and nothing leaks between tests.
"""
from __future__ import annotations

import os
import warnings
from contextlib import ExitStack
from datetime import datetime, timezone

import pytest
from sqlalchemy.orm import sessionmaker

from kb.db import make_engine
from kb.migrate import upgrade
from tests.support.databases import PostgresUnavailable, fresh_postgres_database, postgres_server

ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# One sealing key for the whole run (and the processes it starts), so stored webhook and robot secrets are
# sealed and opened alike everywhere and no key file is left in the checkout; tests of the key file unset it.
os.environ.setdefault("KB_SECRETS_KEY", "DeamHEw_SoRWf4JunFzfHYfYZKDt6kNBWAOXL-HhECQ=")


@pytest.fixture(scope="session")
def secret_box():
    from kb.sealing import SecretBox

    return SecretBox.from_setting(os.environ["KB_SECRETS_KEY"])


@pytest.fixture(scope="session")
def _stack():
    with ExitStack() as stack:
        yield stack


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, _stack, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'kb.sqlite3'}"
    else:
        try:
            server = _stack.enter_context(postgres_server())
        except PostgresUnavailable as exc:
            message = f"PostgreSQL half of the suite NOT RUN: {exc}"
            if ON_CI:
                pytest.fail(message + " (CI=true requires it)", pytrace=False)
            warnings.warn(message, stacklevel=2)
            pytest.skip(message)
        url = _stack.enter_context(fresh_postgres_database(server))
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine):
    connection = engine.connect()
    transaction = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield factory
    transaction.rollback()
    connection.close()


class Clock:
    """A settable clock; tests move time explicitly."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, iso: str) -> None:
        self.at = datetime.fromisoformat(iso).astimezone(timezone.utc)


@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc))  # Monday 10:00 in Shanghai
