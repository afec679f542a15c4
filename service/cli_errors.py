"""How the `kb` command reports what went wrong: one line on stderr, never a traceback.

The line is Chinese with the English gist in brackets. The exit status is 2 when the command line
names something invalid or absent (like click's usage errors), 1 when the database refuses or cannot
do it (a duplicate, the demo loaded twice, no schema yet: run `kb migrate`). Anything else is a bug
and keeps its traceback.
"""
from __future__ import annotations

import click
from sqlalchemy import exc as sa_exc

from kb import errors as kb_errors

# option of the command line for a field named in a ValidationFailed
OPTIONS = {"unit_code": "--unit", "parent_code": "--parent", "kind": "--kind", "role": "--role", "name": "--name",
           "code": "--code"}

ENGLISH = {
    "unit_exists": "a unit with this code or name already exists",
    "unit_not_found": "no such unit",
    "demo_loaded": "the demo is already loaded; pass --if-empty to skip it",
    "not_found": "not found",
    "conflict": "conflicts with existing data",
    "forbidden": "not allowed",
}

HINTS = {"demo_loaded": "；加 --if-empty 则跳过"}


class CliFailure(click.ClickException):
    def __init__(self, chinese: str, english: str, exit_code: int = 1):
        super().__init__(f"{chinese}（error: {english}）")
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"kb: {self.message}", err=True)


def _from_domain(error: kb_errors.KbError) -> CliFailure:
    if isinstance(error, kb_errors.ValidationFailed):
        fields = list(error.errors) or ["arguments"]
        chinese = "；".join(f"{message}（{OPTIONS.get(field, field)}）" for field, message in error.errors.items())
        return CliFailure(chinese or error.message,
                          "invalid " + ", ".join(OPTIONS.get(field, field) for field in fields), exit_code=2)
    english = ENGLISH.get(error.code, error.code.replace("_", " "))
    return CliFailure(error.message + HINTS.get(error.code, ""), english,
                      exit_code=2 if isinstance(error, kb_errors.NotFound) else 1)


def _schema_missing(error: sa_exc.DBAPIError) -> bool:
    """SQLite says "no such table"; PostgreSQL raises undefined_table (SQLSTATE 42P01)."""
    return getattr(error.orig, "sqlstate", None) == "42P01" or "no such table" in str(error.orig)


def _from_database(error: sa_exc.DBAPIError) -> CliFailure | None:
    if _schema_missing(error):
        return CliFailure("数据库尚未建表：请先运行 kb migrate", "the database has no schema yet; run `kb migrate` first")
    if isinstance(error, sa_exc.OperationalError):
        detail = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error.orig).__name__
        return CliFailure(f"无法访问数据库（KB_DATABASE_URL）：{detail}", "cannot reach the database")
    return None


class KbGroup(click.Group):
    """A click group that turns domain and database errors of its commands into a CliFailure."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except kb_errors.KbError as error:
            raise _from_domain(error) from error
        except sa_exc.DBAPIError as error:
            failure = _from_database(error)
            if failure is None:
                raise
            raise failure from error
