"""Engine, metadata and the unit of work.

The unit of work rolls back unless told to commit (cosmicpython), and
effects outside the database (index writes, webhooks) are recorded as outbox
rows inside the same transaction.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from kb import events

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings this service relies on.

    SQLite: WAL so readers never wait for the writer, a busy timeout, foreign
    keys on, and write transactions opened with BEGIN IMMEDIATE so two writers
    queue instead of failing on a read-then-write upgrade.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:  # pragma: no cover - driver hook
            dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN itself
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:  # pragma: no cover - driver hook
            mode = "IMMEDIATE" if conn.get_execution_options().get("kb_write") else "DEFERRED"
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


class UnitOfWork:
    """One transaction. Leaves without `commit()` roll back.

    `after_commit` callbacks run only once the commit succeeded, for effects
    outside the database that may be retried from the outbox if they fail.
    """

    def __init__(self, session_factory: Callable[[], Session], *, write: bool = True):
        self._session_factory = session_factory
        self._write = write
        self._after_commit: list[Callable[[], None]] = []
        self.session: Session

    def __enter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
        if self._write:
            # Start the transaction as a writer (SQLite: BEGIN IMMEDIATE).
            self.session.connection(execution_options={"kb_write": True})
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
        if exc_info[0] is None and self._committed:
            for callback in self._after_commit:
                callback()

    _committed = False

    def commit(self) -> None:
        if self.session.info.get(events.PENDING_KEY):
            # A step recorded events nobody dispatched: committing would skip their reactions.
            raise RuntimeError(f"events recorded but not dispatched: {self.session.info[events.PENDING_KEY]!r}; "
                               "call kb.services.reactions.dispatch(session) before commit")
        self.session.commit()
        self._committed = True

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)


# Opens a new unit of work per call; `write=False` for a read-only one where the caller takes it.
UowFactory = Callable[..., UnitOfWork]


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
