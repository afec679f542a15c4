"""Shared schema pieces."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class StrictSchema(Schema):
    """Input schemas accept exactly what a caller may send: unknown fields are an error."""

    class Meta:
        ordered = True


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
