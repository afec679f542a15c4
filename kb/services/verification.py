"""Yearly verification (校核): every published entry is updated or verified once per cycle.

A cycle is a run of `cycle_months` months aligned on 1 January (12: the
calendar year, the default). An entry is *outstanding* in a cycle when
neither a version of it was published nor was it verified since the cycle
began, in Asia/Shanghai time; it must be done by the cycle's last day.
"""
from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from kb.access import Actor, require_role
from kb.calendar import SHANGHAI, to_shanghai
from kb.db import UnitOfWork
from kb.deadlines import TaskSource
from kb.errors import InvalidTransition, NotFound, PermissionDenied, StaleVersion
from kb.models import (
    CorrectionTask, EntryStatus, KnowledgeEntry, KnowledgeVerification, KnowledgeVersion, Role, Unit)
from kb.models.tasks import OPEN_STATES
from kb.search import outbox
from kb.services import audit, tasks


def cycle_containing(day: date, months: int = 12) -> tuple[date, date]:
    """First and last day of the verification cycle that `day` falls in."""
    first_month = (day.month - 1) // months * months + 1
    last_month = first_month + months - 1
    return date(day.year, first_month, 1), date(day.year, last_month, _calendar.monthrange(day.year, last_month)[1])


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def outstanding_since(cycle_start: date, today: date) -> ColumnElement[bool]:
    """SQL condition: a published entry neither published nor verified since the cycle began.

    Entries whose published version has expired are left out: operators no
    longer see them, so there is nothing to verify.
    """
    start_at = start_of(cycle_start)
    version = aliased(KnowledgeVersion)
    expired = (select(version.id).where(version.entry_id == KnowledgeEntry.id,
                                        version.number == KnowledgeEntry.published_number,
                                        version.expires_on < today).exists())
    return and_(KnowledgeEntry.status == EntryStatus.PUBLISHED.value,
                or_(KnowledgeEntry.published_at.is_(None), KnowledgeEntry.published_at < start_at),
                or_(KnowledgeEntry.verified_at.is_(None), KnowledgeEntry.verified_at < start_at),
                ~expired)


@dataclass(frozen=True, slots=True, kw_only=True)
class Verified:
    """What verifying an entry did: the version confirmed, when and by whom, the verification tasks it resolved.

    A typed result instead of a view dict: presentation (Asia/Shanghai times,
    field names) is the dump schema's (service/schemas/tasks.py VerificationSchema).
    """

    entry_id: int
    version: int
    verified_at: datetime  # aware; stored and returned as it happened, shown in Asia/Shanghai by the schema
    verified_by: int
    resolved_task_ids: tuple[int, ...]


def verify_entry(session: Session, actor: Actor, entry_id: int, *, now: datetime, version: int | None = None,
                 note: str | None = None) -> Verified:
    """Step: the published entry is confirmed right as it is; its open yearly-verification tasks resolve."""
    s = session
    entry = s.scalar(select(KnowledgeEntry).where(KnowledgeEntry.id == entry_id)
                     .with_for_update(of=KnowledgeEntry))
    if entry is None:
        raise NotFound(f"知识 {entry_id} 不存在", code="entry_not_found")
    if not actor.is_office and actor.unit_id != entry.unit_id:
        raise PermissionDenied("只能校核本单位的知识（谁提供谁负责）")
    if entry.status != EntryStatus.PUBLISHED.value:
        raise InvalidTransition("已下架的知识无需校核", details={"status": entry.status})
    if version is not None and version != entry.published_number:
        raise StaleVersion(details={"version": version, "current_version": entry.published_number})
    before = {"verified_at": entry.verified_at, "verified_by_id": entry.verified_by_id}
    entry.verified_at, entry.verified_by_id = now, actor.user_id
    s.add(KnowledgeVerification(entry_id=entry.id, unit_id=entry.unit_id, version=entry.published_number,
                                verified_at=now, verified_by_id=actor.user_id, note=note))
    s.flush()
    audit.record(s, actor, "knowledge.verify", "knowledge_entry", entry.id, before,
                 {"verified_at": now, "verified_by_id": actor.user_id, "version": entry.published_number,
                  "note": note}, now)
    outbox.enqueue(s, entry.id, now)
    resolved = tasks.resolve_verification(s, entry.id, now, version=entry.published_number,
                                          note=note or "已校核，内容无需修改", actor=actor)
    return Verified(entry_id=entry.id, version=entry.published_number, verified_at=now, verified_by=actor.user_id,
                    resolved_task_ids=tuple(resolved))


def verify(uow: UnitOfWork, actor: Actor, entry_id: int, *, now: datetime, version: int | None = None,
           note: str | None = None) -> Verified:
    """A unit reviewer confirms the published entry is still right, unchanged."""
    require_role(actor, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    with uow:
        verified = verify_entry(uow.session, actor, entry_id, now=now, version=version, note=note)
        uow.commit()
        return verified


@dataclass(frozen=True, slots=True, kw_only=True)
class DueEntrySnapshot:
    """A published entry outstanding in the cycle: when it was last published or verified, and its open
    verification task if the scheduler has opened one."""

    entry_id: int
    unit_code: str
    unit_name: str
    question: str
    version: int
    published_at: datetime | None
    verified_at: datetime | None
    last_checked_at: datetime | None  # the later of the two
    due_on: date  # the cycle's last day
    task_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationDueSnapshot:
    """A page of the entries outstanding in the current cycle, and how many there are in all."""

    cycle_starts_on: date
    cycle_ends_on: date
    total: int
    items: tuple[DueEntrySnapshot, ...]


def list_due(uow: UnitOfWork, actor: Actor, *, now: datetime, cycle_months: int = 12, unit_code: str | None = None,
             within_days: int | None = None, limit: int = 50, offset: int = 0) -> VerificationDueSnapshot:
    """Entries outstanding in the current cycle, for a unit (its own for unit roles; any or all for the office).

    With `within_days`, only when the cycle ends within that many days (what is
    coming due); otherwise everything not yet done this cycle.
    """
    require_role(actor, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    today = to_shanghai(now).date()
    start, end = cycle_containing(today, cycle_months)
    with uow:
        s = uow.session
        open_task = (select(CorrectionTask.id)
                     .where(CorrectionTask.entry_id == KnowledgeEntry.id,
                            CorrectionTask.source == TaskSource.YEARLY_VERIFICATION.value,
                            CorrectionTask.cycle_starts_on == start, CorrectionTask.state.in_(OPEN_STATES))
                     .limit(1).scalar_subquery())
        query = (select(KnowledgeEntry, Unit, KnowledgeVersion.question, open_task)
                 .join(Unit, Unit.id == KnowledgeEntry.unit_id)
                 .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                       & (KnowledgeVersion.number == KnowledgeEntry.published_number))
                 .where(outstanding_since(start, today)))
        if not actor.is_office:
            if unit_code and unit_code != s.scalar(select(Unit.code).where(Unit.id == actor.unit_id)):
                raise PermissionDenied("只能查看本单位的待校核知识")
            query = query.where(KnowledgeEntry.unit_id == actor.unit_id)
        elif unit_code:
            query = query.where(Unit.code == unit_code)
        if within_days is not None and (end - today).days > within_days:
            query = query.where(false())
        total = s.scalar(select(func.count()).select_from(query.with_only_columns(KnowledgeEntry.id).subquery())) or 0
        rows = s.execute(query.order_by(Unit.code, KnowledgeEntry.id).limit(limit).offset(offset)).all()
        items = []
        for entry, unit, question, task_id in rows:
            checked = max((t for t in (entry.published_at, entry.verified_at) if t is not None), default=None)
            items.append(DueEntrySnapshot(
                entry_id=entry.id, unit_code=unit.code, unit_name=unit.name, question=question,
                version=entry.published_number, published_at=entry.published_at, verified_at=entry.verified_at,
                last_checked_at=checked, due_on=end, task_id=task_id))
        return VerificationDueSnapshot(cycle_starts_on=start, cycle_ends_on=end, total=total, items=tuple(items))
