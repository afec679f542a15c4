"""Recording index changes in the transaction that causes them.

On PostgreSQL, sequence numbers are handed out at insert time but become
visible at commit; a transaction-scoped advisory lock held from the insert to
the commit makes commit order equal sequence order, so a host that has applied
sequence N never later finds a smaller one appear.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import itertools

from sqlalchemy import event, func, select, text

from kb.models import SearchOutbox

_OUTBOX_LOCK_KEY = 0x6B62_0001  # arbitrary, constant for this table
_local_changes = itertools.count(1)
_local_change = 0


def local_changes() -> int:
    """How many transactions of this process changed what search shows (outbox rows, synonyms).

    A search index of this process checks the database at once when this moved
    (kb.search.sync), instead of at its usual interval.
    """
    return _local_change


def _note_local_change(session) -> None:
    global _local_change
    session.info.pop("kb_search_change", None)
    _local_change = next(_local_changes)


def note_change(session) -> None:
    """Count this session's transaction in ``local_changes()`` once it commits (a rolled-back one
    counts at the session's next commit: one needless database check, nothing worse)."""
    if not session.info.get("kb_search_change"):
        session.info["kb_search_change"] = True
        event.listen(session, "after_commit", _note_local_change, once=True)


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
    note_change(session)
    return len(ids)


def latest_sequence(session) -> int:
    return session.scalar(select(func.coalesce(func.max(SearchOutbox.seq), 0)))


def entries_since(session, applied: int, upto: int) -> list[int]:
    rows = session.scalars(
        select(SearchOutbox.entry_id).where(SearchOutbox.seq > applied, SearchOutbox.seq <= upto)
        .order_by(SearchOutbox.seq))
    return list(dict.fromkeys(rows))
