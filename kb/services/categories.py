"""The category tree, managed by the office; seeded with the five kinds of Art. 4."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.access import Actor, require_role
from kb.db import UnitOfWork
from kb.errors import Conflict, NotFound, ValidationFailed
from kb.models import Category, KnowledgeEntry, KnowledgeVersion, Role
from kb.search import outbox
from kb.services import audit

ART4_CATEGORIES = ("政策法规", "行政区划", "社会民生", "热点问题", "通知公告")


@dataclass(frozen=True, slots=True, kw_only=True)
class CategorySnapshot:
    id: int
    name: str
    parent_id: int | None
    position: int
    is_notice: bool  # 通知公告 and the like: expired entries are withdrawn by the scheduler

    @classmethod
    def of(cls, category: Category) -> CategorySnapshot:
        return cls(id=category.id, name=category.name, parent_id=category.parent_id, position=category.position,
                   is_notice=category.is_notice)


def _record(category: CategorySnapshot) -> dict[str, Any]:
    """A category as its audit events record it."""
    return {"id": category.id, "name": category.name, "parent_id": category.parent_id,
            "position": category.position, "is_notice": category.is_notice}


def seed_categories(session: Session) -> None:
    """Idempotent: adds the Art. 4 roots that are missing."""
    existing = set(session.scalars(select(Category.name).where(Category.parent_id.is_(None))))
    for position, name in enumerate(ART4_CATEGORIES):
        if name not in existing:
            session.add(Category(name=name, parent_id=None, position=position, is_notice=name == "通知公告"))
    session.flush()


def list_categories(uow: UnitOfWork) -> list[CategorySnapshot]:
    with uow:
        return [CategorySnapshot.of(c) for c in uow.session.scalars(
            select(Category).order_by(Category.parent_id.is_not(None), Category.position, Category.id))]


def subtree_ids(session: Session, category_id: int) -> list[int]:
    parents = dict(session.execute(select(Category.id, Category.parent_id)).all())
    return [cid for cid in parents if category_id in ancestry(parents, cid)]


def ancestry(parents: dict[int, int | None], category_id: int) -> list[int]:
    """Ids from the root down to `category_id`."""
    path: list[int] = []
    current: int | None = category_id
    while current is not None and current not in path:
        path.append(current)
        current = parents.get(current)
    return list(reversed(path))


def entries_under(session: Session, category_id: int) -> list[int]:
    """Entries whose published version is filed in the category or below it."""
    return list(session.scalars(
        select(KnowledgeEntry.id)
        .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
              & (KnowledgeVersion.number == KnowledgeEntry.published_number))
        .where(KnowledgeVersion.category_id.in_(subtree_ids(session, category_id)))
        .order_by(KnowledgeEntry.id)))


def create_category(uow: UnitOfWork, actor: Actor, *, name: str, parent_id: int | None, position: int,
                    is_notice: bool | None, now: datetime) -> CategorySnapshot:
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        parent = None
        if parent_id is not None:
            parent = uow.session.get(Category, parent_id)
            if parent is None:
                raise ValidationFailed({"parent_id": "上级分类不存在"})
        duplicate = uow.session.scalar(select(Category.id).where(
            Category.name == name,
            Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id))
        if duplicate:
            raise Conflict(f"同一上级下已有分类“{name}”", code="category_exists")
        category = Category(name=name, parent_id=parent_id, position=position,
                            is_notice=parent.is_notice if is_notice is None and parent else bool(is_notice))
        uow.session.add(category)
        uow.session.flush()
        view = CategorySnapshot.of(category)
        audit.record(uow.session, actor, "category.create", "category", category.id, None, _record(view), now)
        uow.commit()
        return view


def update_category(uow: UnitOfWork, actor: Actor, category_id: int, *, changes: Mapping[str, Any],
                    now: datetime) -> CategorySnapshot:
    """`changes` names the fields to change (name, parent_id, position, is_notice); the others are kept."""
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        category = uow.session.get(Category, category_id)
        if category is None:
            raise NotFound("分类不存在", code="category_not_found")
        before = CategorySnapshot.of(category)
        if "parent_id" in changes and changes["parent_id"] is not None:
            parents = dict(uow.session.execute(select(Category.id, Category.parent_id)).all())
            if changes["parent_id"] not in parents:
                raise ValidationFailed({"parent_id": "上级分类不存在"})
            if category_id in ancestry(parents, changes["parent_id"]):
                raise ValidationFailed({"parent_id": "不能把分类移到它自己的下级"})
        for field in ("name", "parent_id", "position", "is_notice"):
            if field in changes:
                setattr(category, field, changes[field])
        uow.session.flush()
        view = CategorySnapshot.of(category)
        if (view.name, view.parent_id) != (before.name, before.parent_id):
            # Search documents carry the category path (subtree filter) and name: re-index the subtree.
            outbox.enqueue_many(uow.session, entries_under(uow.session, category_id), now)
        audit.record(uow.session, actor, "category.update", "category", category.id, _record(before), _record(view),
                     now)
        uow.commit()
        return view


def delete_category(uow: UnitOfWork, actor: Actor, category_id: int, now: datetime) -> None:
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        category = uow.session.get(Category, category_id)
        if category is None:
            raise NotFound("分类不存在", code="category_not_found")
        children = uow.session.scalar(select(func.count()).where(Category.parent_id == category_id))
        used = uow.session.scalar(select(func.count()).where(KnowledgeVersion.category_id == category_id))
        if children or used:
            raise Conflict("分类下仍有子分类或知识，不能删除", code="category_in_use")
        audit.record(uow.session, actor, "category.delete", "category", category.id,
                     _record(CategorySnapshot.of(category)), None, now)
        uow.session.delete(category)
        uow.commit()
