from __future__ import annotations

from marshmallow import Schema, fields, validate

from kb.models import Role, UnitKind
from service.schemas.common import StrictSchema
from service.schemas.fields import DateTime, DerivedString, Integer


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
    kind_label = DerivedString(lambda unit: UnitKind(unit.kind).label)
    parent_code = fields.String(allow_none=True)
    liaison_name = fields.String(allow_none=True, metadata={"description": "知识联络人"})
    liaison_phone = fields.String(allow_none=True, metadata={"description": "联络人电话"})


class UnitUpdate(StrictSchema):
    code = fields.String(validate=[validate.Length(1, 40), validate.Regexp(r"^[A-Za-z0-9_\-]+$")])
    name = fields.String(validate=validate.Length(1, 200))
    liaison_name = fields.String(allow_none=True, validate=validate.Length(0, 100))
    liaison_phone = fields.String(allow_none=True, validate=validate.Length(0, 40))


class UserCreate(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 100))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    unit_code = fields.String(load_default=None, allow_none=True)
    username = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 64),
                             metadata={"description": "控制台登录名；机器用户（考核引擎）可不设"})
    password = fields.String(load_default=None, allow_none=True, load_only=True, validate=validate.Length(1, 256),
                             metadata={"description": "初始密码：至少 8 位，含字母和数字"})


class UserSchema(Schema):
    id = Integer(dump_only=True)
    name = fields.String()
    role = fields.String()
    unit_code = fields.String(allow_none=True)
    active = fields.Boolean()
    username = fields.String(allow_none=True)
    can_log_in = fields.Boolean(metadata={"description": "已设置用户名和密码，可登录控制台"})


class PasswordReset(StrictSchema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(1, 256))
    username = fields.String(load_default=None, validate=validate.Length(1, 64))


class PasswordChange(StrictSchema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(0, 256))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(1, 256))


class UserActivation(StrictSchema):
    active = fields.Boolean(required=True, metadata={"description": "false 停用：其登录会话和令牌立即失效"})


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
    expires_at = DateTime(dump_only=True, allow_none=True, metadata={"description": "到期时间；空为永不过期"})


class CreatedUserSchema(Schema):
    user = fields.Nested(UserSchema)
    token = fields.String(metadata={"description": "只显示这一次，请妥善保存"})


class IssuedTokenSchema(Schema):
    token_info = fields.Nested(TokenSchema, data_key="token_record")
    token = fields.String(metadata={"description": "只显示这一次，请妥善保存"})
