"""What follows from what: every reaction to a domain event, in one table.

Steps record events (``kb.events``) as they do things; the use case owning the
transaction calls :func:`dispatch` before it commits, so every reaction below
runs in the same transaction as the change it reacts to and rolls back with
it. A reaction may record further events; they are dispatched in the same
call. Effects outside the database (the search index, webhooks) are not
reactions: they leave through outbox rows after the commit.

To add a reaction, add a function taking ``(session, event)`` to the event's
row; to add an event, define it in ``kb/events.py`` and give it a row here
(an empty one when nothing reacts yet).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from kb import events
from kb.events import ChangePublished, EntryWithdrawn
from kb.services import tasks

Reaction = Callable[[Session, Any], object]

REACTIONS: Mapping[type, tuple[Reaction, ...]] = {
    # A published change resolves the correction tasks linked to it; a modification also counts as this
    # cycle's yearly verification of its entry.
    ChangePublished: (tasks.resolve_linked_tasks, tasks.resolve_verification_on_update),
    # An entry leaving the knowledge base (deleted, revoked, an expired notice) resolves its open tasks.
    EntryWithdrawn: (tasks.resolve_on_withdrawal_event,),
}


def dispatch(session: Session) -> None:
    """Run the reactions to every event recorded on `session`, oldest first, until none is left."""
    while pending := events.take(session):
        for event in pending:
            for reaction in REACTIONS[type(event)]:
                reaction(session, event)
