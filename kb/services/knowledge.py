"""Reading knowledge: published entries for everyone, history for their unit and the office."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import object_session

from kb.access import Actor, can_see_unpublished, require_role
from kb.db import UnitOfWork
from kb.errors import NotFound, PermissionDenied
from kb.models import Category, EntryStatus, KnowledgeEntry, KnowledgeVersion, Role, Unit
from kb.services.categories import subtree_ids

READERS = (Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)


def require_reader(actor: Actor) -> None:
    require_role(actor, *READERS)


def version_view(v: KnowledgeVersion) -> dict:
    return {
        "number": v.number, "question": v.question, "similar_questions": list(v.similar_questions or []),
        "answer": v.answer, "keywords": list(v.keywords or []), "category_id": v.category_id,
        "policy_title": v.policy_title, "policy_number": v.policy_number,
        "policy_attachments": v.policy_attachments, "effective_on": v.effective_on, "expires_on": v.expires_on,
        "urgent": v.urgent, "format": v.format, "change_request_id": v.change_request_id,
        "created_at": v.created_at,
    }


def scheduled_update(number: int | None, effective_on: date | None) -> dict | None:
    """The badge of a published modification waiting for its date of effect."""
    if number is None or effective_on is None:
        return None
    return {"version": number, "effective_on": effective_on.isoformat(),
            "label": f"将于 {effective_on.isoformat()} 更新"}


def entry_view(entry: KnowledgeEntry, unit: Unit, category: Category | None = None) -> dict:
    v = entry.published_version
    waiting = None
    session = object_session(entry)
    if entry.scheduled_number is not None and entry.status == EntryStatus.PUBLISHED.value and session is not None:
        waiting = session.scalar(
            select(KnowledgeVersion.effective_on).where(KnowledgeVersion.entry_id == entry.id,
                                                        KnowledgeVersion.number == entry.scheduled_number))
    return {
        "id": entry.id, "status": entry.status, "version": entry.published_number, "unit_code": unit.code,
        "unit_name": unit.name, "category_name": category.name if category else None,
        "created_at": entry.created_at, "updated_at": entry.published_at, "verified_at": entry.verified_at,
        "withdrawn_at": entry.withdrawn_at, **{k: val for k, val in version_view(v).items() if k != "number"},
        "scheduled_update": scheduled_update(entry.scheduled_number, waiting),
    }


def in_effect(today: date):
    """SQL condition: the published version is in effect on `today`."""
    return (KnowledgeVersion.effective_on <= today) & (
        or_(KnowledgeVersion.expires_on.is_(None), KnowledgeVersion.expires_on >= today))


def _published_query():
    return (select(KnowledgeEntry, Unit, Category)
            .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                  & (KnowledgeVersion.number == KnowledgeEntry.published_number))
            .join(Unit, Unit.id == KnowledgeEntry.unit_id)
            .join(Category, Category.id == KnowledgeVersion.category_id))


def list_published(uow: UnitOfWork, actor: Actor, *, today: date, category_id: int | None = None,
                   unit_code: str | None = None, include_withdrawn: bool = False, limit: int = 20,
                   offset: int = 0, entry_ids: list[int] | None = None) -> tuple[int, list[dict]]:
    """Entries as operators see them: published and in effect, newest first.

    Unit roles and the office may ask for withdrawn ones too (their own unit's
    for unit roles). `entry_ids` (search hits) keeps only those, in that order.
    """
    require_role(actor, *READERS)
    with uow:
        s = uow.session
        query = _published_query()
        if include_withdrawn and actor.role is not Role.OPERATOR:
            if not actor.is_office:
                query = query.where(or_(KnowledgeEntry.status == EntryStatus.PUBLISHED.value,
                                        KnowledgeEntry.unit_id == actor.unit_id))
        else:
            query = query.where(KnowledgeEntry.status == EntryStatus.PUBLISHED.value, in_effect(today))
        if category_id is not None:
            query = query.where(KnowledgeVersion.category_id.in_(subtree_ids(s, category_id)))
        if unit_code:
            query = query.where(Unit.code == unit_code)
        if entry_ids is not None:
            rows = s.execute(query.where(KnowledgeEntry.id.in_(entry_ids))).all()
            found = {e.id: entry_view(e, u, c) for e, u, c in rows}
            return len(found), [found[i] for i in entry_ids if i in found]
        total = s.scalar(select(func.count()).select_from(query.with_only_columns(KnowledgeEntry.id).subquery())) or 0
        rows = s.execute(query.order_by(KnowledgeEntry.published_at.desc(), KnowledgeEntry.id.desc())
                         .limit(limit).offset(offset)).all()
        return total, [entry_view(e, u, c) for e, u, c in rows]


def get_entry(uow: UnitOfWork, actor: Actor, entry_id: int, *, today: date) -> dict:
    require_role(actor, *READERS)
    with uow:
        row = uow.session.execute(_published_query().where(KnowledgeEntry.id == entry_id)).first()
        if row is None:
            raise NotFound(f"知识 {entry_id} 不存在", code="entry_not_found")
        entry, unit, category = row
        v = entry.published_version
        live = entry.status == EntryStatus.PUBLISHED.value and v.effective_on <= today and (
            v.expires_on is None or v.expires_on >= today)
        if not live and not can_see_unpublished(actor, entry.unit_id):
            # Operators must not read withdrawn or expired answers out to citizens.
            raise NotFound(f"知识 {entry_id} 不存在或已下架", code="entry_not_found")
        return entry_view(entry, unit, category)


def list_versions(uow: UnitOfWork, actor: Actor, entry_id: int) -> list[dict]:
    require_role(actor, *READERS)
    with uow:
        entry = uow.session.get(KnowledgeEntry, entry_id)
        if entry is None:
            raise NotFound(f"知识 {entry_id} 不存在", code="entry_not_found")
        if not can_see_unpublished(actor, entry.unit_id):
            raise PermissionDenied("只有本单位和热线办可以查看知识的历史版本")
        return [version_view(v) for v in uow.session.scalars(
            select(KnowledgeVersion).where(KnowledgeVersion.entry_id == entry_id)
            .order_by(KnowledgeVersion.number))]
