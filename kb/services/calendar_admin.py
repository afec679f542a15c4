"""The office keeps the working-day calendar: overrides for single dates and confirmed years.

Every change recounts the deadlines of open tasks in the same transaction,
so no task shows a deadline the calendar no longer gives.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.access import Actor, require_role
from kb.calendar import to_shanghai
from kb.db import UnitOfWork
from kb.deadlines import TaskSource
from kb.errors import NotFound, ValidationFailed
from kb.models import CalendarOverride, ConfirmedYear, OverrideKind, Role
from kb.services import audit, tasks, verification
from kb.services.calendar_store import load_calendar
from kb.services.tasks import CorrectionSettings


@dataclass(frozen=True, slots=True, kw_only=True)
class OverrideSnapshot:
    """The office's override of one date: a holiday or a working day, who set it and when; once saved, also the
    open tasks whose deadline it moved (None when overrides are listed)."""

    day: date
    kind: str
    note: str | None
    set_by: int | None
    set_at: datetime
    recomputed_task_ids: tuple[int, ...] | None = None

    @classmethod
    def of(cls, o: CalendarOverride, *, recomputed_task_ids: tuple[int, ...] | None = None) -> OverrideSnapshot:
        return cls(day=o.day, kind=o.kind, note=o.note, set_by=o.set_by_id, set_at=o.set_at,
                   recomputed_task_ids=recomputed_task_ids)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmedYearSnapshot:
    """A year the office has entered in full; once confirmed, also how many overrides it has and the tasks whose
    deadline stopped being provisional (None when the confirmed years are listed)."""

    year: int
    confirmed_at: datetime
    confirmed_by: int | None
    overrides: int | None = None
    recomputed_task_ids: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarSnapshot:
    overrides: tuple[OverrideSnapshot, ...]
    confirmed_years: tuple[ConfirmedYearSnapshot, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OverrideDeletedSnapshot:
    day: date
    recomputed_task_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineSnapshot:
    """When something received at `received_at` is due, under the rule asked for."""

    received_at: datetime
    due_at: datetime
    provisional: bool
    working_days: int | None
    source: str | None


def _audit_record(o: CalendarOverride) -> dict[str, Any]:
    """An override as the audit log records it (as the answers showed it when it was written)."""
    return {"date": o.day, "kind": o.kind, "kind_label": OverrideKind(o.kind).label, "note": o.note,
            "set_by": o.set_by_id, "set_at": o.set_at}


def _require_office(actor: Actor | None) -> None:
    if actor is not None:  # None: an administrator at the command line
        require_role(actor, Role.OFFICE_ADMIN)


def _recompute(session: Session, settings: CorrectionSettings, now: datetime, *,
               only_provisional: bool = False) -> tuple[int, ...]:
    return tuple(tasks.recompute_deadlines(session, load_calendar(session), settings, now,
                                           only_provisional=only_provisional))


def list_overrides(uow: UnitOfWork, *, year: int | None = None) -> CalendarSnapshot:
    with uow:
        query = select(CalendarOverride).order_by(CalendarOverride.day)
        if year is not None:
            query = query.where(CalendarOverride.day.between(date(year, 1, 1), date(year, 12, 31)))
        years = uow.session.scalars(select(ConfirmedYear).order_by(ConfirmedYear.year)).all()
        return CalendarSnapshot(
            overrides=tuple(OverrideSnapshot.of(o) for o in uow.session.scalars(query)),
            confirmed_years=tuple(ConfirmedYearSnapshot(year=y.year, confirmed_at=y.confirmed_at,
                                                        confirmed_by=y.confirmed_by_id) for y in years))


def set_override(uow: UnitOfWork, actor: Actor | None, day: date, *, kind: str, note: str | None, now: datetime,
                 settings: CorrectionSettings) -> OverrideSnapshot:
    """Declare `day` a holiday or a working day (a second call for the same date replaces the first)."""
    _require_office(actor)
    if kind not in {k.value for k in OverrideKind}:
        raise ValidationFailed({"kind": "只能是 holiday（休息日）或 working_day（工作日）"})
    with uow:
        s = uow.session
        existing = s.get(CalendarOverride, day, with_for_update=True)
        before = _audit_record(existing) if existing else None
        if existing is None:
            existing = CalendarOverride(day=day)
            s.add(existing)
        existing.kind, existing.note = kind, note
        existing.set_by_id, existing.set_at = (actor.user_id if actor else None), now
        s.flush()
        audit.record(s, actor, "calendar.override", "calendar_override", None, before, _audit_record(existing), now)
        snapshot = OverrideSnapshot.of(existing, recomputed_task_ids=_recompute(s, settings, now))
        uow.commit()
        return snapshot


def delete_override(uow: UnitOfWork, actor: Actor | None, day: date, *, now: datetime,
                    settings: CorrectionSettings) -> OverrideDeletedSnapshot:
    _require_office(actor)
    with uow:
        s = uow.session
        existing = s.get(CalendarOverride, day, with_for_update=True)
        if existing is None:
            raise NotFound(f"{day.isoformat()} 没有调整记录", code="override_not_found")
        before = _audit_record(existing)
        s.delete(existing)
        s.flush()
        audit.record(s, actor, "calendar.override_delete", "calendar_override", None, before, None, now)
        recomputed = _recompute(s, settings, now)
        uow.commit()
        return OverrideDeletedSnapshot(day=day, recomputed_task_ids=recomputed)


def confirm_year(uow: UnitOfWork, actor: Actor | None, year: int, *, now: datetime,
                 settings: CorrectionSettings) -> ConfirmedYearSnapshot:
    """The office has entered `year` in full: its days no longer make deadlines provisional.

    Confirming again changes nothing.
    """
    _require_office(actor)
    if not 2000 <= year <= 2100:
        raise ValidationFailed({"year": "年份须在 2000–2100 之间"})
    with uow:
        s = uow.session
        row = s.get(ConfirmedYear, year, with_for_update=True)
        if row is None:
            row = ConfirmedYear(year=year, confirmed_by_id=actor.user_id if actor else None, confirmed_at=now)
            s.add(row)
            s.flush()
            audit.record(s, actor, "calendar.confirm_year", "calendar_year", year, None, {"year": year}, now)
        overrides = s.scalar(select(func.count()).select_from(CalendarOverride)
                             .where(CalendarOverride.day.between(date(year, 1, 1), date(year, 12, 31)))) or 0
        recomputed = _recompute(s, settings, now, only_provisional=True)
        uow.commit()
        return ConfirmedYearSnapshot(year=year, confirmed_at=row.confirmed_at, confirmed_by=row.confirmed_by_id,
                                     overrides=overrides, recomputed_task_ids=recomputed)


def deadline(uow: UnitOfWork, *, received_at: datetime, settings: CorrectionSettings, days: int | None = None,
             source: str | None = None, policy_effective_on: date | None = None) -> DeadlineSnapshot:
    """The deadline rule, exposed: `days` working days after receipt, or the rule for a task source."""
    if (days is None) == (source is None):
        raise ValidationFailed({"days": "须给出 days（工作日数）或 source（任务来源）之一"})
    if received_at.tzinfo is None:
        raise ValidationFailed({"received": "须带时区，例如 2026-09-30T10:00:00+08:00"})
    if policy_effective_on is not None and source != TaskSource.POLICY_CHANGE.value:
        raise ValidationFailed({"policy_effective_on": "只适用于 source=policy_change"})
    with uow:
        calendar = load_calendar(uow.session)
        working_days: int | None
        try:
            if days is not None:
                result = calendar.add_working_days(received_at, days)
                working_days = days
            else:
                source_ = TaskSource(source)
                cycle_end = None
                if source_ is TaskSource.YEARLY_VERIFICATION:
                    cycle_end = verification.cycle_containing(to_shanghai(received_at).date(),
                                                              settings.cycle_months)[1]
                result = tasks.deadline_of(calendar, settings, source_, received_at,
                                           policy_effective_on=policy_effective_on, cycle_ends_on=cycle_end)
                working_days = settings.rules.working_days.get(source_)
        except OverflowError:  # a date at the very ends of what Python can count (year 1 or 9999)
            raise ValidationFailed({"received": "日期超出可计算期限的范围"}) from None
        return DeadlineSnapshot(received_at=received_at, due_at=result.due_at, provisional=result.provisional,
                                working_days=working_days, source=source)
