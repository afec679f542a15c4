"""Domain events: facts a step records inside its transaction for other parts of the domain to act on.

A step that does something others react to records an event on its session
(``record``); the use case that owns the transaction hands the session to
``kb.services.reactions.dispatch`` before it commits, and every reaction runs
in that same transaction. The table of reactions is in
``kb/services/reactions.py``, the one place to read what follows from what.
Effects outside the database still leave through the outbox rows, after the
commit.

``kb.db.UnitOfWork.commit`` refuses to commit a session holding events that
were never dispatched, so a forgotten dispatch fails loudly instead of
silently skipping a reaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

PENDING_KEY = "kb.events"  # where a session holds the events recorded and not yet dispatched


class _HasInfo(Protocol):
    @property
    def info(self) -> dict: ...


@dataclass(frozen=True)
class ChangePublished:
    """A change request was published (new, modified, suggestion, deletion or revocation)."""

    change_request_id: int
    kind: str  # kb.models.ChangeKind value
    entry_id: int | None  # the entry it changed (None for a suggestion on no entry)
    version: int | None  # the version it published; None when it carried no content
    at: datetime


@dataclass(frozen=True)
class EntryWithdrawn:
    """A published entry left the knowledge base: deleted, revoked, or an expired notice."""

    entry_id: int
    at: datetime
    change_request_id: int | None = None  # the deletion or revocation that withdrew it; None: it expired


Event = ChangePublished | EntryWithdrawn


def record(session: _HasInfo, event: Event) -> None:
    """Note that `event` happened in this transaction; it is acted on when the use case dispatches."""
    session.info.setdefault(PENDING_KEY, []).append(event)


def take(session: _HasInfo) -> list[Event]:
    """The events recorded and not yet dispatched, oldest first; the session holds none after."""
    return session.info.pop(PENDING_KEY, None) or []


def pending(session: _HasInfo) -> bool:
    return bool(session.info.get(PENDING_KEY))
