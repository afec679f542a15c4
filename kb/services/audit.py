"""Recording and reading the audit log."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from kb.access import Actor, require_role
from kb.calendar import json_value
from kb.db import UnitOfWork
from kb.models import AuditEvent, Role


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=json_value))  # times at +08:00, as every answer shows them


def record(session, actor: Actor | None, action: str, object_type: str, object_id: int | None,
           before: dict | None, after: dict | None, now: datetime) -> None:
    """Append one event; flushed with the change it describes, never committed alone."""
    session.add(AuditEvent(
        occurred_at=now, actor_id=actor.user_id if actor else None, action=action, object_type=object_type,
        object_id=object_id, before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None))


def list_events(uow: UnitOfWork, actor: Actor, *, object_type: str | None = None, object_id: int | None = None,
                action: str | None = None, limit: int = 50, offset: int = 0,
                before_id: int | None = None) -> tuple[int, list[dict]]:
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
        return total, [
            {"id": e.id, "occurred_at": e.occurred_at, "actor_id": e.actor_id, "action": e.action,
             "object_type": e.object_type, "object_id": e.object_id, "before": e.before, "after": e.after}
            for e in uow.session.scalars(page)
        ]
