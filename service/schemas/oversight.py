from __future__ import annotations

from marshmallow import Schema, fields, validate

from kb.services.tasks import OUTCOME_LABELS
from service.schemas.common import ShortListArgs, StrictSchema
from service.schemas.fields import DateTime, DerivedString, Id, Integer


class NoticeCreate(StrictSchema):
    task_id = Id(required=True, metadata={"description": "超期的纠错任务"})


class NoticeConfirm(StrictSchema):
    reply = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000),
                          metadata={"description": "办理结果说明"})


class NoticeQueryArgs(ShortListArgs):
    year = Integer(validate=validate.Range(2000, 2100))
    unconfirmed = fields.Boolean(load_default=False)


class NoticeSchema(Schema):
    id = Integer()
    number = fields.String(metadata={"description": "编号，如 督（2026）7号"})
    year = Integer()
    sequence = Integer()
    task_id = Integer()
    unit_code = fields.String()
    unit_name = fields.String()
    item = fields.String(metadata={"description": "督办事项"})
    detail = fields.String(metadata={"description": "督办内容"})
    working_days = Integer(allow_none=True, metadata={"description": "督办时限（工作日）"})
    received_at = fields.String()
    due_at = fields.String()
    answer_by = fields.String(metadata={"description": "须在此前办结并回复"})
    entry_id = Integer(allow_none=True)
    issued_at = DateTime()
    confirmed_at = DateTime(allow_none=True)
    reply = fields.String(allow_none=True)
    task_state = fields.String()
    outcome = DerivedString(lambda notice: OUTCOME_LABELS[notice.outcome], dump_only=False,
                            metadata={"description": "办理结果"})


class ContactUpdate(StrictSchema):
    email = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    notify = fields.Boolean(load_default=True, metadata={"description": "接收提醒"})
    daily_digest = fields.Boolean(load_default=False, metadata={"description": "每日汇总一封，而不是逐条发送"})


class ContactSchema(Schema):
    email = fields.String(allow_none=True)
    notify = fields.Boolean()
    daily_digest = fields.Boolean()


class RobotUpdate(StrictSchema):
    channel = fields.String(required=True, allow_none=True, validate=validate.OneOf(["wecom", "dingtalk"]),
                            metadata={"description": "wecom 企业微信 / dingtalk 钉钉；null 删除"})
    url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    secret = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200),
                           load_only=True, metadata={"description": "钉钉加签密钥"})


class RobotSchema(Schema):
    unit_code = fields.String()
    channel = fields.String()
    url = fields.String()
    signed = fields.Boolean()


class NotificationQueryArgs(StrictSchema):
    waiting = fields.Boolean(load_default=False, metadata={"description": "只看未发出的"})
    limit = Integer(load_default=100, validate=validate.Range(1, 500))
    offset = Integer(load_default=0, validate=validate.Range(0, 100_000))


class NotificationSchema(Schema):
    id = Integer()
    event = fields.String()
    channel = fields.String()
    address = fields.String()
    unit_id = Integer(allow_none=True)
    user_id = Integer(allow_none=True)
    subject = fields.String()
    digest = fields.Boolean()
    created_at = DateTime()
    next_attempt_at = DateTime()
    attempts = Integer()
    sent_at = DateTime(allow_none=True)
    gave_up_at = DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
