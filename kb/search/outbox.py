"""Recording index changes in the transaction that causes them.

On PostgreSQL, sequence numbers are handed out at insert time but become
visible at commit; a transaction-scoped advisory lock held from the insert to
the commit makes commit order equal sequence order, so a host that has applied
sequence N never later finds a smaller one appear.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text

from kb.models import SearchOutbox

_OUTBOX_LOCK_KEY = 0x6B62_0001  # arbitrary, constant for this table


def enqueue(session, entry_id: int, now: datetime) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _OUTBOX_LOCK_KEY})
    session.add(SearchOutbox(entry_id=entry_id, created_at=now))
    session.flush()


def latest_sequence(session) -> int:
    return session.scalar(select(func.coalesce(func.max(SearchOutbox.seq), 0)))


def entries_since(session, applied: int, upto: int) -> list[int]:
    rows = session.scalars(
        select(SearchOutbox.entry_id).where(SearchOutbox.seq > applied, SearchOutbox.seq <= upto)
        .order_by(SearchOutbox.seq))
    return list(dict.fromkeys(rows))
