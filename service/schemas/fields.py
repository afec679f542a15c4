"""Fields shared by the schemas: ids the database can hold, dates the calendar can count from, local times.

Out-of-range numbers and dates would otherwise get past validation and fail
deep down (an integer overflow in the database driver, an OverflowError in
date arithmetic) as a 500; here they are field errors, a 422 in the one error
shape.
"""
from __future__ import annotations

from datetime import date, datetime

from marshmallow import ValidationError, fields, validate

from kb.calendar import to_shanghai

MAX_ID = 2**31 - 1  # the largest PostgreSQL integer: every id column is one
MIN_YEAR, MAX_YEAR = 1900, 2200  # dates deadlines are counted from; far from date arithmetic's limits


class Id(fields.Integer):
    """The id of a row (`entry_id`, `category_id`, ...): a whole number from 1 to 2**31 - 1."""

    def __init__(self, **kwargs):
        extra = kwargs.pop("validate", None) or []
        extra = [extra] if callable(extra) else list(extra)
        super().__init__(validate=[validate.Range(1, MAX_ID, error=f"编号须为 1 到 {MAX_ID} 之间的整数"), *extra],
                         **kwargs)


def in_calendar_years(value: date) -> None:
    """Validator for dates and datetimes that deadlines are counted from or capped by."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(f"年份须在 {MIN_YEAR}–{MAX_YEAR} 之间")


class ShanghaiDateTime(fields.DateTime):
    """Dumps an aware datetime as the same instant in Asia/Shanghai (+08:00): kb returns instants, the schema
    says how people read them."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        return super()._serialize(to_shanghai(value) if value is not None else None, attr, obj, **kwargs)

