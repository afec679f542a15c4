"""The office keeps the working-day calendar: overrides for single dates and confirmed years.

Every change recounts the deadlines of open tasks in the same transaction,
so no task shows a deadline the calendar no longer gives.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from kb.access import Actor, require_role
from kb.calendar import to_shanghai
from kb.db import UnitOfWork
from kb.deadlines import TaskSource
from kb.errors import NotFound, ValidationFailed
from kb.models import CalendarOverride, ConfirmedYear, OverrideKind, Role
from kb.services import audit, tasks, verification
from kb.services.calendar_store import load_calendar


def override_view(o: CalendarOverride) -> dict:
    return {"date": o.day, "kind": o.kind, "kind_label": OverrideKind(o.kind).label, "note": o.note,
            "set_by": o.set_by_id, "set_at": to_shanghai(o.set_at)}


def _require_office(actor: Actor | None) -> None:
    if actor is not None:  # None: an administrator at the command line
        require_role(actor, Role.OFFICE_ADMIN)


def _recompute(session, settings, now: datetime, *, only_provisional: bool = False) -> list[int]:
    return tasks.recompute_deadlines(session, load_calendar(session), settings, now,
                                     only_provisional=only_provisional)


def list_overrides(uow: UnitOfWork, *, year: int | None = None) -> dict:
    with uow:
        query = select(CalendarOverride).order_by(CalendarOverride.day)
        if year is not None:
            query = query.where(CalendarOverride.day.between(date(year, 1, 1), date(year, 12, 31)))
        years = uow.session.scalars(select(ConfirmedYear).order_by(ConfirmedYear.year)).all()
        return {"overrides": [override_view(o) for o in uow.session.scalars(query)],
                "confirmed_years": [{"year": y.year, "confirmed_at": to_shanghai(y.confirmed_at),
                                     "confirmed_by": y.confirmed_by_id} for y in years]}


def set_override(uow: UnitOfWork, actor: Actor | None, day: date, *, kind: str, note: str | None, now: datetime,
                 settings) -> dict:
    """Declare `day` a holiday or a working day (a second call for the same date replaces the first)."""
    _require_office(actor)
    if kind not in {k.value for k in OverrideKind}:
        raise ValidationFailed({"kind": "只能是 holiday（休息日）或 working_day（工作日）"})
    with uow:
        s = uow.session
        existing = s.get(CalendarOverride, day, with_for_update=True)
        before = override_view(existing) if existing else None
        if existing is None:
            existing = CalendarOverride(day=day)
            s.add(existing)
        existing.kind, existing.note = kind, note
        existing.set_by_id, existing.set_at = (actor.user_id if actor else None), now
        s.flush()
        view = override_view(existing)
        audit.record(s, actor, "calendar.override", "calendar_override", None, before, view, now)
        view["recomputed_task_ids"] = _recompute(s, settings, now)
        uow.commit()
        return view


def delete_override(uow: UnitOfWork, actor: Actor | None, day: date, *, now: datetime, settings) -> dict:
    _require_office(actor)
    with uow:
        s = uow.session
        existing = s.get(CalendarOverride, day, with_for_update=True)
        if existing is None:
            raise NotFound(f"{day.isoformat()} 没有调整记录", code="override_not_found")
        before = override_view(existing)
        s.delete(existing)
        s.flush()
        audit.record(s, actor, "calendar.override_delete", "calendar_override", None, before, None, now)
        recomputed = _recompute(s, settings, now)
        uow.commit()
        return {"date": day, "recomputed_task_ids": recomputed}


def confirm_year(uow: UnitOfWork, actor: Actor | None, year: int, *, now: datetime, settings) -> dict:
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
                             .where(CalendarOverride.day.between(date(year, 1, 1), date(year, 12, 31))))
        recomputed = _recompute(s, settings, now, only_provisional=True)
        uow.commit()
        return {"year": year, "confirmed_at": to_shanghai(row.confirmed_at), "confirmed_by": row.confirmed_by_id,
                "overrides": overrides, "recomputed_task_ids": recomputed}


def deadline(uow: UnitOfWork, *, received_at: datetime, settings, days: int | None = None, source: str | None = None,
             policy_effective_on: date | None = None) -> dict:
    """The deadline rule, exposed: `days` working days after receipt, or the rule for a task source."""
    if (days is None) == (source is None):
        raise ValidationFailed({"days": "须给出 days（工作日数）或 source（任务来源）之一"})
    if received_at.tzinfo is None:
        raise ValidationFailed({"received": "须带时区，例如 2026-09-30T10:00:00+08:00"})
    if policy_effective_on is not None and source != TaskSource.POLICY_CHANGE.value:
        raise ValidationFailed({"policy_effective_on": "只适用于 source=policy_change"})
    with uow:
        calendar = load_calendar(uow.session)
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
        return {"received_at": to_shanghai(received_at), "due_at": result.due_at, "provisional": result.provisional,
                "working_days": working_days, "source": source}
