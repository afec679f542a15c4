"""The working calendar as this database holds it: the official calendar with the office's overrides.

Read by every step that counts a deadline (tasks, verification, gaps, the
jobs, compliance counts); kept by the office through
``kb.services.calendar_admin``. It imports no other use-case module, so those
that count deadlines and the one that changes the calendar do not import each
other in a circle.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.calendar import WorkingCalendar
from kb.models import CalendarOverride, ConfirmedYear, OverrideKind


def load_calendar(session: Session) -> WorkingCalendar:
    """The official calendar with the office's overrides and confirmed years, as of this transaction."""
    overrides = {day: kind == OverrideKind.WORKING_DAY.value
                 for day, kind in session.execute(select(CalendarOverride.day, CalendarOverride.kind))}
    return WorkingCalendar(overrides, session.scalars(select(ConfirmedYear.year)).all())
