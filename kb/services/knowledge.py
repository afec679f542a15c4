"""Reading knowledge: published entries for everyone, history for their unit and the office.

The use cases answer `EntrySnapshot` and `VersionSnapshot`, copied inside the
transaction; how they are shown (the label of a scheduled update, times at
+08:00) is the dump schemas' in `service/`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import object_session

from kb.access import Actor, can_see_unpublished, require_role
from kb.db import UnitOfWork
from kb.errors import NotFound, PermissionDenied
from kb.models import CONTENT_FIELDS, Category, EntryStatus, KnowledgeEntry, KnowledgeVersion, Role, Unit
from kb.proposal import Proposal
from kb.services.categories import subtree_ids

READERS = (Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)


def require_reader(actor: Actor) -> None:
    require_role(actor, *READERS)


def _content(v: KnowledgeVersion) -> dict[str, Any]:
    """A version's content fields, sequences as tuples."""
    return {**v.content(), "similar_questions": tuple(v.similar_questions or ()),
            "keywords": tuple(v.keywords or ())}


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionSnapshot:
    """One numbered, immutable state of an entry's content."""

    number: int
    question: str
    similar_questions: tuple[str, ...]
    answer: str
    keywords: tuple[str, ...]
    category_id: int
    policy_title: str | None
    policy_number: str | None
    policy_attachments: int
    effective_on: date
    expires_on: date | None
    urgent: bool
    format: str
    change_request_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, v: KnowledgeVersion) -> VersionSnapshot:
        return cls(number=v.number, change_request_id=v.change_request_id, created_at=v.created_at, **_content(v))


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledUpdateSnapshot:
    """A published modification waiting for its date of effect: version `version` replaces the published
    one at 00:00 Asia/Shanghai on `effective_on`."""

    version: int
    effective_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class EntrySnapshot:
    """An entry as operators see it: its published version's content, flat, with where it stands."""

    id: int
    status: str                 # EntryStatus's value
    version: int                # the published version's number (the ETag "vN")
    unit_code: str
    unit_name: str
    category_name: str | None
    created_at: datetime        # when the published version was made (what the answer has always said)
    updated_at: datetime | None  # the last publication of a version
    verified_at: datetime | None
    withdrawn_at: datetime | None
    question: str
    similar_questions: tuple[str, ...]
    answer: str
    keywords: tuple[str, ...]
    category_id: int
    policy_title: str | None
    policy_number: str | None
    policy_attachments: int
    effective_on: date
    expires_on: date | None
    urgent: bool
    format: str
    change_request_id: int | None
    scheduled_update: ScheduledUpdateSnapshot | None

    @property
    def content(self) -> Proposal:
        """The published content as a proposal naming every field (what a modification starts from)."""
        return Proposal.of({f: getattr(self, f) for f in CONTENT_FIELDS})

    @classmethod
    def of(cls, entry: KnowledgeEntry, unit: Unit, category: Category | None = None) -> EntrySnapshot:
        v = entry.published_version
        waiting = None
        session = object_session(entry)
        if entry.scheduled_number is not None and entry.status == EntryStatus.PUBLISHED.value and session is not None:
            waiting = session.scalar(
                select(KnowledgeVersion.effective_on).where(KnowledgeVersion.entry_id == entry.id,
                                                            KnowledgeVersion.number == entry.scheduled_number))
        return cls(
            id=entry.id, status=entry.status, version=entry.published_number, unit_code=unit.code,
            unit_name=unit.name, category_name=category.name if category else None, created_at=v.created_at,
            updated_at=entry.published_at, verified_at=entry.verified_at, withdrawn_at=entry.withdrawn_at,
            change_request_id=v.change_request_id, **_content(v),
            scheduled_update=ScheduledUpdateSnapshot(version=entry.scheduled_number, effective_on=waiting)
            if entry.scheduled_number is not None and waiting is not None else None)


def in_effect(today: date) -> ColumnElement[bool]:
    """SQL condition: the published version is in effect on `today`."""
    return (KnowledgeVersion.effective_on <= today) & (
        or_(KnowledgeVersion.expires_on.is_(None), KnowledgeVersion.expires_on >= today))


def _published_query() -> Select[KnowledgeEntry, Unit, Category]:
    return (select(KnowledgeEntry, Unit, Category)
            .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                  & (KnowledgeVersion.number == KnowledgeEntry.published_number))
            .join(Unit, Unit.id == KnowledgeEntry.unit_id)
            .join(Category, Category.id == KnowledgeVersion.category_id))


def list_published(uow: UnitOfWork, actor: Actor, *, today: date, category_id: int | None = None,
                   unit_code: str | None = None, include_withdrawn: bool = False, limit: int = 20,
                   offset: int = 0, entry_ids: list[int] | None = None) -> tuple[int, list[EntrySnapshot]]:
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
            found = {e.id: EntrySnapshot.of(e, u, c) for e, u, c in rows}
            return len(found), [found[i] for i in entry_ids if i in found]
        total = s.scalar(select(func.count()).select_from(query.with_only_columns(KnowledgeEntry.id).subquery())) or 0
        rows = s.execute(query.order_by(KnowledgeEntry.published_at.desc(), KnowledgeEntry.id.desc())
                         .limit(limit).offset(offset)).all()
        return total, [EntrySnapshot.of(e, u, c) for e, u, c in rows]


def get_entry(uow: UnitOfWork, actor: Actor, entry_id: int, *, today: date) -> EntrySnapshot:
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
        return EntrySnapshot.of(entry, unit, category)


def list_versions(uow: UnitOfWork, actor: Actor, entry_id: int) -> list[VersionSnapshot]:
    require_role(actor, *READERS)
    with uow:
        entry = uow.session.get(KnowledgeEntry, entry_id)
        if entry is None:
            raise NotFound(f"知识 {entry_id} 不存在", code="entry_not_found")
        if not can_see_unpublished(actor, entry.unit_id):
            raise PermissionDenied("只有本单位和热线办可以查看知识的历史版本")
        return [VersionSnapshot.of(v) for v in uow.session.scalars(
            select(KnowledgeVersion).where(KnowledgeVersion.entry_id == entry_id)
            .order_by(KnowledgeVersion.number))]
