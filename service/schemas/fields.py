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

from marshmallow import ValidationError, fields, missing, validate

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


# The name the use-case schemas use for it.
ShanghaiDateTime = DateTime


class _Derived:
    """A value the dump schema derives from the object it dumps (a Chinese label of a state, a formatted
    number), rather than reads from one of its attributes; never loaded. The OpenAPI document shows the
    field's own type (a string, a list of strings), as if it were read. Dump only, unless told otherwise
    (``dump_only=False``: where the document never said so of the field it replaces)."""

    def __init__(self, derive: Callable[[Any], Any], *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("dump_only", True)
        super().__init__(*args, **kwargs)
        self.derive = derive

    def get_value(self, obj, attr, accessor=None, default=missing):
        return self.derive(obj)


class DerivedString(_Derived, fields.String):
    """``DerivedString(lambda unit: UnitKind(unit.kind).label)``"""


class DerivedList(_Derived, fields.List):
    """``DerivedList(lambda sub: [EVENT_LABELS[e] for e in sub.events], fields.String())``"""


class Label(DerivedString):
    """A Chinese label the dump computes from the whole object (of a state or kind), documented as a plain
    string: the fields it replaced were never marked read-only in the OpenAPI document."""

    def __init__(self, compute: Callable[[Any], str | None], **kwargs: Any) -> None:
        kwargs.setdefault("dump_only", False)
        super().__init__(compute, **kwargs)
