"""Knowledge export: every field of the published entries, in the spreadsheet's Chinese columns.

`prepare` checks who asks and for what, at once (so a refusal is an error,
not a broken download); `KnowledgeExport.rows()` then reads the entries in
batches (``yield_per``) in a unit of work of its own, so 100,000 entries
never sit in memory together.
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, ClassVar

from sqlalchemy import select

from kb.access import Actor, require_role
from kb.calendar import SHANGHAI
from kb.errors import PermissionDenied, ValidationFailed
from kb.models import Category, KnowledgeEntry, KnowledgeVersion, Role, Unit
from kb.services.categories import subtree_ids
from kb.services.imports import CategoryPaths
from kb.services.knowledge_sheet import EXPORT_COLUMNS, FORMAT_LABELS, STATUS_LABELS

STATUSES = ("published", "withdrawn", "all")
_VERSION_FIELDS = ("category_id", "format", "question", "similar_questions", "answer", "keywords", "policy_title",
                   "policy_number", "policy_attachments", "effective_on", "expires_on", "urgent")
# Plain columns, not ORM objects: nothing accumulates in the session while 100,000 rows go by.
_Version = namedtuple("_Version", ["category_id", "format", "question", "similar_questions", "answer", "keywords",
                                   "policy_title", "policy_number", "policy_attachments", "effective_on",
                                   "expires_on", "urgent"])
assert _Version._fields == _VERSION_FIELDS
BATCH = 1000


def _local(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if moment else None


@dataclass
class KnowledgeExport:
    uow_factory: Callable[[], Any]
    unit_id: int | None
    category_ids: list[int] | None
    status: str
    updated_since: date | None

    headings: ClassVar[tuple[str, ...]] = tuple(c.heading for c in EXPORT_COLUMNS)
    widths: ClassVar[tuple[int, ...]] = tuple(c.width for c in EXPORT_COLUMNS)

    def rows(self) -> Iterator[list[Any]]:
        with self.uow_factory() as uow:
            s = uow.session
            paths = CategoryPaths(s).path_of
            query = (select(KnowledgeEntry.id, KnowledgeEntry.published_number, KnowledgeEntry.status,
                            KnowledgeEntry.created_at, KnowledgeEntry.published_at, KnowledgeEntry.verified_at,
                            KnowledgeEntry.withdrawn_at, Unit.code, Unit.name,
                            *(getattr(KnowledgeVersion, f) for f in _VERSION_FIELDS))
                     .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                           & (KnowledgeVersion.number == KnowledgeEntry.published_number))
                     .join(Unit, Unit.id == KnowledgeEntry.unit_id)
                     .order_by(KnowledgeEntry.id))
            if self.unit_id is not None:
                query = query.where(KnowledgeEntry.unit_id == self.unit_id)
            if self.category_ids is not None:
                query = query.where(KnowledgeVersion.category_id.in_(self.category_ids))
            if self.status != "all":
                query = query.where(KnowledgeEntry.status == self.status)
            if self.updated_since is not None:
                since = datetime.combine(self.updated_since, time.min, SHANGHAI)
                query = query.where(KnowledgeEntry.published_at >= since)
            result = s.execute(query.execution_options(yield_per=BATCH))
            for partition in result.partitions():
                for (entry_id, number, status, created_at, published_at, verified_at, withdrawn_at, unit_code,
                     unit_name, *content) in partition:
                    v = _Version(*content)
                    yield [
                        entry_id, number, unit_code, unit_name, STATUS_LABELS.get(status, status),
                        paths.get(v.category_id), FORMAT_LABELS.get(v.format, v.format), v.question,
                        list(v.similar_questions or []), v.answer, "、".join(v.keywords or []), v.policy_title,
                        v.policy_number, v.policy_attachments, v.effective_on, v.expires_on, v.urgent,
                        _local(created_at), _local(published_at), _local(verified_at), _local(withdrawn_at),
                    ]


def prepare(uow, actor: Actor, uow_factory: Callable[[], Any], *, unit_code: str | None = None,
            category_id: int | None = None, status: str = "published",
            updated_since: date | None = None) -> KnowledgeExport:
    """Maintainers export their own unit; the office any unit, or all of them."""
    require_role(actor, Role.MAINTAINER, Role.OFFICE_ADMIN)
    if status not in STATUSES:
        raise ValidationFailed({"status": "状态只能是 published、withdrawn 或 all"})
    with uow:
        s = uow.session
        unit_id = None
        if unit_code:
            unit_id = s.scalar(select(Unit.id).where(Unit.code == unit_code))
            if unit_id is None:
                raise ValidationFailed({"unit": f"单位 {unit_code} 不存在"})
        if not actor.is_office:
            if unit_id is not None and unit_id != actor.unit_id:
                raise PermissionDenied("只能导出本单位的知识（谁提供谁负责）")
            unit_id = actor.unit_id
        category_ids = None
        if category_id is not None:
            if s.get(Category, category_id) is None:
                raise ValidationFailed({"category_id": "分类不存在"})
            category_ids = subtree_ids(s, category_id)
    return KnowledgeExport(uow_factory, unit_id, category_ids, status, updated_since)



