"""Recording and reading the audit log."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.access import Actor, require_role
from kb.calendar import json_value
from kb.db import UnitOfWork
from kb.models import AuditEvent, Role


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEventSnapshot:
    """One event of the audit log; `before` and `after` are the JSON recorded with it."""

    id: int
    occurred_at: datetime
    actor_id: int | None  # None: the system (a job, the command line)
    action: str
    object_type: str
    object_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventSnapshot:
        return cls(id=event.id, occurred_at=event.occurred_at, actor_id=event.actor_id, action=event.action,
                   object_type=event.object_type, object_id=event.object_id, before=event.before,
                   after=event.after)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=json_value))  # times at +08:00, as every answer shows them


def record(session: Session, actor: Actor | None, action: str, object_type: str, object_id: int | None,
           before: dict[str, Any] | None, after: dict[str, Any] | None, now: datetime) -> None:
    """Append one event; flushed with the change it describes, never committed alone."""
    session.add(AuditEvent(
        occurred_at=now, actor_id=actor.user_id if actor else None, action=action, object_type=object_type,
        object_id=object_id, before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None))


def list_events(uow: UnitOfWork, actor: Actor, *, object_type: str | None = None, object_id: int | None = None,
                action: str | None = None, limit: int = 50, offset: int = 0,
                before_id: int | None = None) -> tuple[int, list[AuditEventSnapshot]]:
    """(how many events match, the page of them), newest first."""
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        query = select(AuditEvent)
        if object_type:
            query = query.where(AuditEvent.object_type == object_type)
        if object_id is not None:
            query = query.where(AuditEvent.object_id == object_id)
        if action:
            query = query.where(AuditEvent.action == action)
        if before_id:
            query = query.where(AuditEvent.id < before_id)
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        page = query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
        return total, [AuditEventSnapshot.of(e) for e in uow.session.scalars(page)]
