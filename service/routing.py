"""URL converters of the app."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

from service.schemas.fields import MAX_ID


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a whole number from 1 to 2**31 - 1, what the database's integer keys hold.

    Anything else matches no route, so it is a 404 in the one error shape, like
    an id that does not exist, instead of an integer overflow in the database
    driver (a 500). Digits are ASCII: werkzeug's ``\\d+`` also matches
    full-width "１２" (and Python's int() reads it as 12), so one id would have
    many spellings.
    """

    regex = "[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register(app) -> None:
    """Before any route is added: the default `int` converter becomes `IdConverter`."""
    app.url_map.converters["int"] = IdConverter
