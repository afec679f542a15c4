"""The office's corrections to the working-day calendar (see docs/deadlines.md)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base
from kb.models.types import UTCDateTime


class OverrideKind(StrEnum):
    HOLIDAY = "holiday"          # a day off, e.g. a holiday the library does not know yet
    WORKING_DAY = "working_day"  # an adjusted working day (调休上班)

    @property
    def label(self) -> str:
        return {"holiday": "休息日", "working_day": "工作日"}[self.value]


class CalendarOverride(Base):
    """One date the office has declared a holiday or a working day; wins over the official data."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(String(200))  # the notice the date comes from
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: from the command line
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("kind IN ('holiday','working_day')", name="valid_kind"),)


class ConfirmedYear(Base):
    """A year the office has entered in full: deadlines counting its days are no longer provisional."""

    __tablename__ = "calendar_confirmed_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("year BETWEEN 2000 AND 2100", name="plausible_year"),)
