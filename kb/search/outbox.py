"""Recording index changes in the transaction that causes them.

On PostgreSQL, sequence numbers are handed out at insert time but become
visible at commit; a transaction-scoped advisory lock held from the insert to
the commit makes commit order equal sequence order, so a host that has applied
sequence N never later finds a smaller one appear.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, text

from kb.models import SearchOutbox

_OUTBOX_LOCK_KEY = 0x6B62_0001  # arbitrary, constant for this table


def enqueue(session, entry_id: int, now: datetime) -> None:
    enqueue_many(session, (entry_id,), now)


def enqueue_many(session, entry_ids: Iterable[int], now: datetime) -> int:
    """One outbox row per distinct entry, in this transaction (e.g. every entry under a moved category)."""
    ids = list(dict.fromkeys(int(i) for i in entry_ids))
    if not ids:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _OUTBOX_LOCK_KEY})
    session.add_all(SearchOutbox(entry_id=i, created_at=now) for i in ids)
    session.flush()
    return len(ids)


def latest_sequence(session) -> int:
    return session.scalar(select(func.coalesce(func.max(SearchOutbox.seq), 0)))


def entries_since(session, applied: int, upto: int) -> list[int]:
    rows = session.scalars(
        select(SearchOutbox.entry_id).where(SearchOutbox.seq > applied, SearchOutbox.seq <= upto)
        .order_by(SearchOutbox.seq))
    return list(dict.fromkeys(rows))
