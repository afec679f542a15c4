"""Fields shared by the schemas: ids the database can hold, dates the calendar can count from, local times.

Out-of-range numbers and dates would otherwise get past validation and fail
deep down (an integer overflow in the database driver, an OverflowError in
date arithmetic) as a 500; here they are field errors, a 422 in the one error
shape.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from marshmallow import ValidationError, fields, validate

from kb.calendar import SHANGHAI

MAX_ID = 2**31 - 1  # the largest PostgreSQL integer: every id column is one
MIN_YEAR, MAX_YEAR = 1900, 2200  # dates deadlines are counted from; far from date arithmetic's limits


_DECIMAL_DIGITS = re.compile(r"[+-]?[0-9]{1,4000}")  # ASCII only: Python's int() also reads "１２" and "1_000"


class Integer(fields.Integer):
    """A whole number, exactly: a JSON integer, or (in a query string) ASCII decimal digits.

    marshmallow's Integer truncates 1.9 to 1 and reads "１２" (full-width digits),
    " 12 " and "1_000" as numbers; an input that says something else than a whole
    number is refused instead. (Booleans are refused by marshmallow already.)
    """

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _DECIMAL_DIGITS.fullmatch(value):
            return int(value)
        raise self.make_error("invalid")


class Id(Integer):
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


class DateTime(fields.DateTime):
    """A moment, always answered in RFC 3339 at +08:00 (Asia/Shanghai), whatever zone it was stored in.

    Stored times are UTC; one format in every answer saves callers comparing
    "…T02:00:00+00:00" with "…T10:00:00+08:00". A naive value (none are stored)
    is taken as UTC rather than failing the answer.
    """

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(SHANGHAI)
        return super()._serialize(value, attr, obj, **kwargs)


class Label(fields.String):
    """A string the dump computes from the whole object (a Chinese label of a state or kind): documented as a
    string, like any other, but read from nothing on the object. Dump only; it takes no input."""

    def __init__(self, compute: Callable[[Any], str | None], **kwargs):
        super().__init__(**kwargs)
        self._compute = compute

    def serialize(self, attr, obj, accessor=None, **kwargs):
        return self._serialize(self._compute(obj), attr, obj, **kwargs)


# The name the use-case schemas use for it.
ShanghaiDateTime = DateTime
