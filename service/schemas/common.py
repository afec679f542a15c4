"""Shared schema pieces."""
from __future__ import annotations

from collections.abc import Mapping

from marshmallow import Schema, ValidationError, fields, pre_load, validate

NUL_MESSAGE = "不能包含空字符（\\u0000）"
NUL_ERROR_DEPTH = 6  # deeper than any schema nests; a NUL in deeper junk is reported at this depth


def nul_errors(data) -> dict:
    """Field errors, nested like marshmallow's, for every string (or key) in `data` holding a NUL character.

    PostgreSQL text and jsonb cannot store NUL, so such input is refused here rather than at the database.
    Iterative, so deeply nested input cannot exhaust the stack.
    """
    errors: dict = {}
    stack = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value and path:
                _put_error(errors, path[:NUL_ERROR_DEPTH])
        elif isinstance(value, Mapping):
            for key in value:
                if isinstance(key, str) and "\x00" in key:
                    stack.append(((*path, key), key))
                else:
                    stack.append(((*path, key), value[key]))
        elif isinstance(value, (list, tuple)):
            stack.extend(((*path, index), item) for index, item in enumerate(value))
    return errors


def _put_error(errors: dict, path: tuple) -> None:
    node = errors
    for key in path[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):  # a shorter path is reported already
            return
    node[path[-1]] = [NUL_MESSAGE]


class StrictSchema(Schema):
    """Input schemas accept exactly what a caller may send: unknown fields are an error; no string holds NUL."""

    class Meta:
        ordered = True

    @pre_load
    def _refuse_nul_characters(self, data, **kwargs):
        errors = nul_errors(data)
        if errors:
            raise ValidationError(errors)
        return data


class ErrorSchema(Schema):
    code = fields.String(metadata={"description": "机器可读的错误码"})
    status = fields.Integer()
    message = fields.String(metadata={"description": "中文说明"})
    errors = fields.Dict(metadata={"description": "字段错误"})


class PageArgs(StrictSchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


def page_of(item_schema):
    class _Page(Schema):
        total = fields.Integer()
        items = fields.List(fields.Nested(item_schema))
    _Page.__name__ = f"{item_schema.__name__.removesuffix('Schema')}PageSchema"
    return _Page
