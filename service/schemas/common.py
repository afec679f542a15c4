"""Shared schema pieces."""
from __future__ import annotations

import re
from collections.abc import Mapping

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from service.schemas.fields import Integer

NUL_MESSAGE = "不能包含空字符（\\u0000）"
SURROGATE_MESSAGE = "不能包含孤立的 UTF-16 代理字符（\\ud800–\\udfff），请检查文本的编码"
_SURROGATE = re.compile("[\ud800-\udfff]")  # JSON's "\\ud83d\\ude00" pairs arrive as one character; what is left is lone
NUL_ERROR_DEPTH = 6  # deeper than any schema nests; a NUL in deeper junk is reported at this depth


def unstorable_message(value: str) -> str | None:
    """Why a string cannot be stored or sent back, or None.

    PostgreSQL text and jsonb cannot store NUL; a lone surrogate (JSON's "\\ud800" without its partner)
    is no character at all: stored, it makes every answer that shows it fail to encode as UTF-8.
    """
    if "\x00" in value:
        return NUL_MESSAGE
    if _SURROGATE.search(value):
        return SURROGATE_MESSAGE
    return None


def nul_errors(data) -> dict:
    """Field errors, nested like marshmallow's, for every string (or key) in `data` that cannot be stored.

    That is a NUL character or a lone surrogate (:func:`unstorable_message`): refused here rather than
    failing at the database or in every later answer. Iterative, so deeply nested input cannot exhaust the stack.
    """
    errors: dict = {}
    stack = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            message = unstorable_message(value) if path else None
            if message:
                _put_error(errors, path[:NUL_ERROR_DEPTH], message)
        elif isinstance(value, Mapping):
            for key in value:
                if isinstance(key, str) and unstorable_message(key):
                    stack.append(((*path, key), key))
                else:
                    stack.append(((*path, key), value[key]))
        elif isinstance(value, (list, tuple)):
            stack.extend(((*path, index), item) for index, item in enumerate(value))
    return errors


def _put_error(errors: dict, path: tuple, message: str) -> None:
    path = tuple(_printable(key) if isinstance(key, str) else key for key in path)  # the answer must encode
    node = errors
    for key in path[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):  # a shorter path is reported already
            return
    node[path[-1]] = [message]


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate as the text \ud800


class StrictSchema(Schema):
    """Input schemas accept exactly what a caller may send: unknown fields are an error; no string holds NUL
    or a lone surrogate; integers are whole numbers (service.schemas.fields.Integer)."""

    class Meta:
        ordered = True

    @pre_load
    def _refuse_nul_characters(self, data, **kwargs):
        errors = nul_errors(data)
        if errors:
            raise ValidationError(errors)
        return data


class ErrorSchema(Schema):
    """The one error shape; the fields after `errors` appear only with the errors that name them."""

    code = fields.String(required=True, metadata={"description": "机器可读的错误码"})
    status = Integer(required=True, metadata={"description": "HTTP 状态码（与应答的状态相同）"})
    message = fields.String(required=True, metadata={"description": "中文说明"})
    errors = fields.Dict(metadata={"description": "字段错误：字段名 → 错误说明（列表或嵌套对象）"})
    # details of 409 stale_version / invalid_transition and a few 404s (kb.errors' `details`)
    base_version = Integer(allow_none=True, metadata={"description": "409 stale_version：所依据的发布版本"})
    current_version = Integer(allow_none=True, metadata={"description": "409 stale_version：当前发布版本"})
    version = Integer(allow_none=True, metadata={"description": "409：校核时所依据的版本"})
    revision = Integer(allow_none=True, metadata={"description": "409 stale_version：所依据的修订号"})
    current_revision = Integer(allow_none=True, metadata={"description": "409 stale_version：当前修订号"})
    state = fields.String(metadata={"description": "409 invalid_transition：当前状态"})
    action = fields.String(metadata={"description": "409 invalid_transition：所请求的操作"})
    period = fields.String(metadata={"description": "期间，如 2026-10"})
    profile = fields.String(metadata={"description": "404 profile_not_found：考核方案名"})
    unit = fields.List(fields.String(), metadata={"description": "404 unit_not_found：不存在的单位编码"})


class PageArgs(StrictSchema):
    limit = Integer(load_default=20, validate=validate.Range(min=1, max=200))
    offset = Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class ShortListArgs(StrictSchema):
    """Paging of lists that are short by nature (synonym groups, webhooks, a user's tokens): all by default."""

    limit = Integer(load_default=200, validate=validate.Range(min=1, max=1000))
    offset = Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


def page(items: list, args) -> dict:
    """`{total, items}` of a list the use case returned whole: the slice `limit`/`offset` ask for."""
    offset = args.get("offset", 0)
    return {"total": len(items), "items": items[offset:offset + args["limit"]]}


_PAGES: dict = {}


def page_of(item_schema):
    """`{total, items}` of `item_schema`; one class per item schema, so the OpenAPI document names it once."""
    if item_schema in _PAGES:
        return _PAGES[item_schema]

    class _Page(Schema):
        total = Integer()
        items = fields.List(fields.Nested(item_schema))
    _Page.__name__ = f"{item_schema.__name__.removesuffix('Schema')}PageSchema"
    _PAGES[item_schema] = _Page
    return _Page
