from __future__ import annotations

from marshmallow import Schema, fields, validate

from kb.models import Role, UnitKind
from service.schemas.common import StrictSchema
from service.schemas.fields import DateTime, Integer


class UnitCreate(StrictSchema):
    code = fields.String(required=True, validate=[validate.Length(1, 40), validate.Regexp(r"^[A-Za-z0-9_\-]+$")])
    name = fields.String(required=True, validate=validate.Length(1, 200))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in UnitKind]))
    parent_code = fields.String(load_default=None, allow_none=True)


class UnitSchema(Schema):
    id = Integer(dump_only=True)
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    kind_label = fields.String(dump_only=True)
    parent_code = fields.String(allow_none=True)


class UserCreate(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 100))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    unit_code = fields.String(load_default=None, allow_none=True)


class UserSchema(Schema):
    id = Integer(dump_only=True)
    name = fields.String()
    role = fields.String()
    unit_code = fields.String(allow_none=True)
    active = fields.Boolean()


class TokenCreate(StrictSchema):
    label = fields.String(load_default="", validate=validate.Length(0, 100))


class TokenSchema(Schema):
    id = Integer(dump_only=True)
    user_id = Integer(dump_only=True)
    prefix = fields.String(dump_only=True, metadata={"description": "令牌前几位，用于辨认"})
    label = fields.String()
    created_at = DateTime(dump_only=True)
    last_used_at = DateTime(dump_only=True, allow_none=True)
    revoked_at = DateTime(dump_only=True, allow_none=True)


class CreatedUserSchema(Schema):
    user = fields.Nested(UserSchema)
    token = fields.String(metadata={"description": "只显示这一次，请妥善保存"})


class IssuedTokenSchema(Schema):
    token_info = fields.Nested(TokenSchema, data_key="token_record")
    token = fields.String(metadata={"description": "只显示这一次，请妥善保存"})
