"""Webhook subscriptions and their delivery log, by direction."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from kb.services.webhooks import EVENT_LABELS, EVENTS, STATE_LABELS
from service.schemas.common import PageArgs, ShortListArgs, StrictSchema
from service.schemas.fields import DateTime, DerivedList, DerivedString, Integer

_EVENTS_HELP = "事件：" + "；".join(f"{e} {EVENT_LABELS[e]}" for e in EVENTS)


def _events(**kwargs):
    return fields.List(fields.String(metadata={"enum": list(EVENTS)}), metadata={"description": _EVENTS_HELP},
                       **kwargs)


# --- in ------------------------------------------------------------------------------------------------------------


class SubscriptionQueryArgs(ShortListArgs):
    active = fields.Boolean(metadata={"description": "true：只看启用的；false：只看已停用的"})


class SubscriptionCreate(StrictSchema):
    url = fields.String(required=True, validate=validate.Length(1, 500),
                        metadata={"description": "接收地址，http:// 或 https://；设置了 KB_WEBHOOK_ALLOWED_HOSTS 时，"
                                                 "主机须在其允许范围内"})
    events = _events(required=True)
    secret = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200),
                           metadata={"description": "签名密钥（至少 16 个字符）；不填则由系统生成，只在本次应答中显示"})
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class SubscriptionUpdate(StrictSchema):
    url = fields.String(validate=validate.Length(1, 500))
    events = _events()
    description = fields.String(allow_none=True, validate=validate.Length(max=200))
    active = fields.Boolean(metadata={"description": "false：暂停推送（待发送的保留，启用后继续发送）"})
    rotate_secret = fields.Boolean(load_default=False,
                                   metadata={"description": "true：更换签名密钥，新密钥只在本次应答中显示"})


class DeliveryQueryArgs(PageArgs):
    state = fields.String(validate=validate.OneOf(list(STATE_LABELS)),
                          metadata={"description": "pending 待发送 / delivered 已送达 / failed 发送失败"})
    event = fields.String(validate=validate.OneOf(list(EVENTS)))


# --- out -----------------------------------------------------------------------------------------------------------


class SubscriptionSchema(Schema):
    id = Integer(dump_only=True)
    url = fields.String()
    events = fields.List(fields.String())
    event_labels = DerivedList(lambda sub: [EVENT_LABELS.get(e, e) for e in sub.events], fields.String())
    description = fields.String(allow_none=True)
    active = fields.Boolean()
    created_by = Integer(dump_only=True, allow_none=True)
    created_at = DateTime(dump_only=True)
    updated_at = DateTime(dump_only=True)
    cancelled_deliveries = Integer(dump_only=True, metadata={"description": "删除时取消的待发送推送数"})


class SubscriptionWithSecretSchema(SubscriptionSchema):
    secret = fields.String(dump_only=True, metadata={
        "description": "签名密钥：只在创建或更换密钥的应答中出现一次，之后无法再查看"})


class AttemptSchema(Schema):
    number = Integer(dump_only=True)
    attempted_at = DateTime(dump_only=True)
    ok = fields.Boolean(dump_only=True)
    status = Integer(dump_only=True, allow_none=True, metadata={"description": "HTTP 状态；无应答为空"})
    error = fields.String(dump_only=True, allow_none=True)
    duration_ms = Integer(dump_only=True)
    replay = fields.Boolean(dump_only=True, metadata={"description": "热线办手动重发"})


class DeliverySchema(Schema):
    id = Integer(dump_only=True)
    subscription_id = Integer(dump_only=True)
    event = fields.String(dump_only=True)
    event_label = DerivedString(lambda delivery: EVENT_LABELS.get(delivery.event, delivery.event))
    delivery_key = fields.String(dump_only=True, metadata={"description": "X-KB-Delivery，重试和重发时不变"})
    state = fields.String(dump_only=True)
    state_label = DerivedString(lambda delivery: STATE_LABELS[delivery.state])
    attempts = Integer(dump_only=True, metadata={"description": "已尝试次数"})
    next_attempt_at = DateTime(dump_only=True, allow_none=True)
    last_status = Integer(dump_only=True, allow_none=True)
    last_error = fields.String(dump_only=True, allow_none=True)
    created_at = DateTime(dump_only=True)
    delivered_at = DateTime(dump_only=True, allow_none=True)
    replay_requested_at = DateTime(dump_only=True, allow_none=True)


class DeliveryDetailSchema(DeliverySchema):
    body = fields.String(dump_only=True, metadata={"description": "签名并发送的 JSON 原文"})
    attempt_log = fields.List(fields.Nested(AttemptSchema), dump_only=True)
