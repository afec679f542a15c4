"""Webhook subscriptions (the office's), the deliveries events put in the outbox, and their replay.

* Subscriptions: a receiver URL, the events it wants and a secret that signs
  every delivery. The secret is shown once, in the answer that creates (or
  rotates) it. Deleting a subscription deactivates it and cancels what was
  still waiting; its deliveries and their log stay.
* :func:`enqueue` is called below the use case, inside the transaction that
  caused the event: one pending delivery per active subscription to the event.
  Nothing is sent until that transaction commits, and nothing at all if it
  rolls back.
* The dispatcher (``scoring_hooks.webhooks.deliver_due``, the
  ``deliver_webhooks`` job) claims and records deliveries through
  :mod:`kb.services.webhook_deliveries`; a replay puts a delivery back in its queue.

Use cases return frozen snapshots (:class:`SubscriptionSnapshot`,
:class:`DeliverySnapshot`, …); the labels of events and states are the dump
schemas' (service/schemas/webhooks.py).

See docs/scoring.md, "Webhooks".
"""
from __future__ import annotations

import json
import secrets as _secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self, cast
from urllib.parse import urlsplit

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from kb.access import Actor, require_role
from kb.calendar import to_shanghai
from kb.db import UnitOfWork
from kb.services.webhook_deliveries import (
    DELIVERED, EVENT_LABELS, EVENTS, FAILED, PENDING, STATE_LABELS, PendingDelivery, claim_due_deliveries,
    record_attempt)
from kb.errors import InvalidTransition, NotFound, ValidationFailed
from kb.models import Role, WebhookAttempt, WebhookDelivery, WebhookSubscription
from kb.sealing import SecretBox
from kb.services import audit
from kb.services.receiver_hosts import DEFAULT as DEFAULT_RECEIVERS
from kb.services.receiver_hosts import ReceiverHosts, unsafe_url_reason

__all__ = [
    "EVENTS", "EVENT_LABELS", "STATE_LABELS", "DELIVERED", "FAILED", "PENDING", "PendingDelivery",
    "SubscriptionSnapshot", "SubscriptionWithSecretSnapshot", "DeletedSubscriptionSnapshot", "AttemptSnapshot",
    "DeliverySnapshot", "DeliveryDetailSnapshot",
    "claim_due_deliveries", "record_attempt", "enqueue", "create_subscription", "list_subscriptions",
    "get_subscription", "update_subscription", "delete_subscription", "list_deliveries", "get_delivery",
    "replay_delivery", "ReceiverHosts", "DEFAULT_RECEIVERS",
]

SECRET_MIN_LENGTH = 16
_URL_MAX = 500
_SECRET_MAX = 200
_DESCRIPTION_MAX = 200


# --- results -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionSnapshot:
    """What the office sees of a subscription: never its secret (stored sealed)."""

    id: int
    url: str
    events: tuple[str, ...]  # in the documented order of EVENTS
    description: str | None
    active: bool
    created_by: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, sub: WebhookSubscription, **more: Any) -> Self:
        return cls(id=sub.id, url=sub.url, events=tuple(sub.events), description=sub.description,
                   active=sub.active, created_by=sub.created_by_id, created_at=sub.created_at,
                   updated_at=sub.updated_at, **more)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionWithSecretSnapshot(SubscriptionSnapshot):
    """A subscription just created or given a new secret: the secret, shown in this answer only."""

    secret: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeletedSubscriptionSnapshot(SubscriptionSnapshot):
    """A subscription just deleted (deactivated), with how many waiting deliveries that cancelled."""

    cancelled_deliveries: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptSnapshot:
    """One attempt to send a delivery."""

    number: int
    attempted_at: datetime
    ok: bool
    status: int | None  # the receiver's HTTP status; None: no answer
    error: str | None
    duration_ms: int
    replay: bool  # the office asked for it

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> AttemptSnapshot:
        return cls(number=attempt.number, attempted_at=attempt.attempted_at, ok=attempt.ok, status=attempt.status,
                   error=attempt.error, duration_ms=attempt.duration_ms, replay=attempt.replay)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverySnapshot:
    """A delivery in the log, without its body."""

    id: int
    subscription_id: int
    event: str
    delivery_key: str  # X-KB-Delivery, the same on every attempt and replay
    state: str  # PENDING, DELIVERED or FAILED
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    replay_requested_at: datetime | None

    @classmethod
    def of(cls, delivery: WebhookDelivery, **more: Any) -> Self:
        return cls(id=delivery.id, subscription_id=delivery.subscription_id, event=delivery.event,
                   delivery_key=delivery.delivery_key, state=delivery.state, attempts=delivery.attempts,
                   next_attempt_at=delivery.next_attempt_at, last_status=delivery.last_status,
                   last_error=delivery.last_error, created_at=delivery.created_at,
                   delivered_at=delivery.delivered_at, replay_requested_at=delivery.replay_requested_at, **more)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryDetailSnapshot(DeliverySnapshot):
    """A delivery with the body it sends and every attempt, oldest first."""

    body: str
    attempt_log: tuple[AttemptSnapshot, ...]


def _subscription_audit(sub: SubscriptionSnapshot) -> dict[str, Any]:
    """A subscription as its audit rows record it (the same keys since the first row)."""
    return {"id": sub.id, "url": sub.url, "events": list(sub.events),
            "event_labels": [EVENT_LABELS.get(e, e) for e in sub.events], "description": sub.description,
            "active": sub.active, "created_by": sub.created_by, "created_at": sub.created_at,
            "updated_at": sub.updated_at}


def _delivery_audit(delivery: DeliverySnapshot) -> dict[str, Any]:
    """A delivery as the audit row of a replay records it (the same keys since the first row)."""
    return {"id": delivery.id, "subscription_id": delivery.subscription_id, "event": delivery.event,
            "event_label": EVENT_LABELS.get(delivery.event, delivery.event), "delivery_key": delivery.delivery_key,
            "state": delivery.state, "state_label": STATE_LABELS[delivery.state], "attempts": delivery.attempts,
            "next_attempt_at": delivery.next_attempt_at, "last_status": delivery.last_status,
            "last_error": delivery.last_error, "created_at": delivery.created_at,
            "delivered_at": delivery.delivered_at, "replay_requested_at": delivery.replay_requested_at}


# --- validation --------------------------------------------------------------------------------------------------


def _checked_url(raw: object, receiver_hosts: ReceiverHosts) -> str:
    url = (raw or "").strip() if isinstance(raw, str) else ""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise ValidationFailed({"url": "接收地址须为完整的 http:// 或 https:// 地址，并包含主机名"})
    if len(url) > _URL_MAX:
        raise ValidationFailed({"url": f"接收地址不能超过 {_URL_MAX} 个字符"})
    if any(ch.isspace() for ch in url):
        raise ValidationFailed({"url": "接收地址不能包含空白字符"})
    reason = unsafe_url_reason(url)
    if reason:
        raise ValidationFailed({"url": reason})
    if not receiver_hosts.allows(url):
        raise ValidationFailed({"url": f"接收地址的主机“{host}”不在本系统允许推送的范围内（KB_WEBHOOK_ALLOWED_HOSTS；"
                                       "未设置时不允许本机、链路本地、云元数据和内网地址）"})
    return url


def _checked_events(raw: Iterable[Any] | None) -> list[str]:
    if not raw or isinstance(raw, str):
        raise ValidationFailed({"events": "请至少选择一个事件："
                                          + "、".join(f"{e}（{EVENT_LABELS[e]}）" for e in EVENTS)})
    unknown = [e for e in raw if e not in EVENTS]
    if unknown:
        raise ValidationFailed({"events": f"不支持的事件：{'、'.join(map(str, unknown))}；可选："
                                          + "、".join(EVENTS)})
    wanted = set(raw)
    return [e for e in EVENTS if e in wanted]  # one of each, in the documented order


def _checked_secret(raw: str | None) -> str:
    if raw is None:
        return _secrets.token_urlsafe(32)
    secret = raw.strip()
    if not SECRET_MIN_LENGTH <= len(secret) <= _SECRET_MAX:
        raise ValidationFailed({"secret": f"签名密钥长度须在 {SECRET_MIN_LENGTH} 到 {_SECRET_MAX} 个字符之间"})
    return secret


def _checked_description(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.strip()
    if len(text) > _DESCRIPTION_MAX:
        raise ValidationFailed({"description": f"说明不能超过 {_DESCRIPTION_MAX} 个字符"})
    return text or None


def _load_subscription(session: Session, subscription_id: int, *, for_update: bool = False) -> WebhookSubscription:
    query = select(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
    if for_update:
        query = query.with_for_update(of=WebhookSubscription)
    sub = session.scalar(query)
    if sub is None:
        raise NotFound(f"推送订阅 {subscription_id} 不存在", code="webhook_subscription_not_found")
    return sub


def _load_delivery(session: Session, delivery_id: int, *, for_update: bool = False) -> WebhookDelivery:
    query = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
    if for_update:
        query = query.with_for_update(of=WebhookDelivery)
    delivery = session.scalar(query)
    if delivery is None:
        raise NotFound(f"推送记录 {delivery_id} 不存在", code="webhook_delivery_not_found")
    return delivery


# --- subscriptions -----------------------------------------------------------------------------------------------


def create_subscription(uow: UnitOfWork, actor: Actor, *, url: str, events: list[str], now: datetime,
                        secret_box: SecretBox, secret: str | None = None, description: str | None = None,
                        receiver_hosts: ReceiverHosts = DEFAULT_RECEIVERS) -> SubscriptionWithSecretSnapshot:
    """Register a receiver; the answer carries the secret, the only time it is shown (it is stored sealed)."""
    require_role(actor, Role.OFFICE_ADMIN)
    url_, events_ = _checked_url(url, receiver_hosts), _checked_events(events)
    secret_, description_ = _checked_secret(secret), _checked_description(description)
    with uow:
        s = uow.session
        sub = WebhookSubscription(url=url_, sealed_secret=secret_box.seal(secret_), events=events_, description=description_, active=True,
                                  created_by_id=actor.user_id, created_at=now, updated_at=now)
        s.add(sub)
        s.flush()
        view = SubscriptionWithSecretSnapshot.of(sub, secret=secret_)
        audit.record(s, actor, "webhook.subscribe", "webhook_subscription", sub.id, None, _subscription_audit(view),
                     now)
        uow.commit()
        return view


def list_subscriptions(uow: UnitOfWork, actor: Actor, *, active: bool | None = None) -> list[SubscriptionSnapshot]:
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        query = select(WebhookSubscription).order_by(WebhookSubscription.id)
        if active is not None:
            query = query.where(WebhookSubscription.active.is_(active))
        return [SubscriptionSnapshot.of(sub) for sub in uow.session.scalars(query)]


def get_subscription(uow: UnitOfWork, actor: Actor, subscription_id: int) -> SubscriptionSnapshot:
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        return SubscriptionSnapshot.of(_load_subscription(uow.session, subscription_id))


def update_subscription(uow: UnitOfWork, actor: Actor, subscription_id: int, *, now: datetime,
                        fields: dict[str, Any], secret_box: SecretBox, rotate_secret: bool = False,
                        receiver_hosts: ReceiverHosts = DEFAULT_RECEIVERS) -> SubscriptionSnapshot:
    """Change url, events, description or active; `rotate_secret` makes a new secret, shown in this answer only.

    Deliveries already waiting keep their body but are signed with the
    current secret and sent to the current URL. With a new secret, the answer
    is a :class:`SubscriptionWithSecretSnapshot`.
    """
    require_role(actor, Role.OFFICE_ADMIN)
    unknown = set(fields) - {"url", "events", "description", "active"}
    if unknown:
        raise ValidationFailed({name: "不能修改此字段" for name in sorted(unknown)})
    changes: dict[str, Any] = {}
    if "url" in fields:
        changes["url"] = _checked_url(fields["url"], receiver_hosts)
    if "events" in fields:
        changes["events"] = _checked_events(fields["events"])
    if "description" in fields:
        changes["description"] = _checked_description(fields["description"])
    if "active" in fields:
        if not isinstance(fields["active"], bool):
            raise ValidationFailed({"active": "须为 true 或 false"})
        changes["active"] = fields["active"]
    with uow:
        s = uow.session
        sub = _load_subscription(s, subscription_id, for_update=True)
        before = _subscription_audit(SubscriptionSnapshot.of(sub))
        for name, value in changes.items():
            setattr(sub, name, value)
        new_secret = None
        if rotate_secret:
            new_secret = _checked_secret(None)
            sub.sealed_secret = secret_box.seal(new_secret)
        sub.updated_at = now
        s.flush()
        view = SubscriptionWithSecretSnapshot.of(sub, secret=new_secret) if new_secret \
            else SubscriptionSnapshot.of(sub)
        audit.record(s, actor, "webhook.update", "webhook_subscription", sub.id, before,
                     {**_subscription_audit(view), "secret_rotated": rotate_secret}, now)
        uow.commit()
        return view


def delete_subscription(uow: UnitOfWork, actor: Actor, subscription_id: int, *,
                        now: datetime) -> DeletedSubscriptionSnapshot:
    """Deactivate the subscription and cancel its waiting deliveries; the deliveries and their log stay."""
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        sub = _load_subscription(s, subscription_id, for_update=True)
        before = _subscription_audit(SubscriptionSnapshot.of(sub))
        sub.active, sub.updated_at = False, now
        result = cast("CursorResult[Any]", s.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == sub.id, WebhookDelivery.state == PENDING)
            .values(state=FAILED, next_attempt_at=None, replay_requested_at=None,
                    last_error="订阅已删除（停用），未再发送")))
        cancelled = result.rowcount or 0
        s.flush()
        view = DeletedSubscriptionSnapshot.of(sub, cancelled_deliveries=cancelled)
        audit.record(s, actor, "webhook.unsubscribe", "webhook_subscription", sub.id, before,
                     {**_subscription_audit(view), "cancelled_deliveries": cancelled}, now)
        uow.commit()
        return view


# --- deliveries --------------------------------------------------------------------------------------------------


def enqueue(session: Session, event: str, data: dict[str, Any], now: datetime) -> list[int]:
    """One pending delivery per active subscription to `event`; flushed, never committed.

    Call it inside the transaction that caused the event: the delivery is sent
    only once that commits (and never if it rolls back).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    subscribers = [sub for sub in session.scalars(select(WebhookSubscription)
                                                  .where(WebhookSubscription.active.is_(True))
                                                  .order_by(WebhookSubscription.id))
                   if event in (sub.events or ())]
    if not subscribers:
        return []
    body = json.dumps({"event": event, "occurred_at": to_shanghai(now).isoformat(), "data": data},
                      ensure_ascii=False, sort_keys=True, default=str)
    deliveries = [WebhookDelivery(subscription_id=sub.id, event=event, delivery_key=uuid.uuid4().hex, body=body,
                                  state=PENDING, attempts=0, next_attempt_at=now, created_at=now)
                  for sub in subscribers]
    session.add_all(deliveries)
    session.flush()
    return [d.id for d in deliveries]


def list_deliveries(uow: UnitOfWork, actor: Actor, *, subscription_id: int | None = None,
                    state: str | None = None, event: str | None = None, limit: int = 50,
                    offset: int = 0) -> tuple[int, list[DeliverySnapshot]]:
    """The delivery log, newest first."""
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        if subscription_id is not None:
            _load_subscription(s, subscription_id)
        query = select(WebhookDelivery)
        if subscription_id is not None:
            query = query.where(WebhookDelivery.subscription_id == subscription_id)
        if state:
            query = query.where(WebhookDelivery.state == state)
        if event:
            query = query.where(WebhookDelivery.event == event)
        total = s.scalar(select(func.count()).select_from(query.with_only_columns(WebhookDelivery.id).subquery()))
        rows = s.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit).offset(offset))
        return total or 0, [DeliverySnapshot.of(d) for d in rows]


def _detail(session: Session, delivery: WebhookDelivery) -> DeliveryDetailSnapshot:
    attempts = session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id)
                               .order_by(WebhookAttempt.number, WebhookAttempt.id))
    return DeliveryDetailSnapshot.of(delivery, body=delivery.body,
                                     attempt_log=tuple(AttemptSnapshot.of(a) for a in attempts))


def get_delivery(uow: UnitOfWork, actor: Actor, delivery_id: int) -> DeliveryDetailSnapshot:
    """One delivery with its body and every attempt."""
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        return _detail(uow.session, _load_delivery(uow.session, delivery_id))


def replay_delivery(uow: UnitOfWork, actor: Actor, delivery_id: int, *, now: datetime) -> DeliveryDetailSnapshot:
    """Send a delivery again at once, whatever its state: same X-KB-Delivery, same body, signed afresh.

    The next attempt is logged as a replay; attempt numbers continue. Refused
    while the subscription is inactive.
    """
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        delivery = _load_delivery(s, delivery_id, for_update=True)
        sub = _load_subscription(s, delivery.subscription_id)
        if not sub.active:
            raise InvalidTransition("该订阅已停用，不能重发；请先启用订阅", code="webhook_subscription_inactive")
        before = _delivery_audit(DeliverySnapshot.of(delivery))
        delivery.state, delivery.next_attempt_at, delivery.replay_requested_at = PENDING, now, now
        s.flush()
        view = _detail(s, delivery)
        audit.record(s, actor, "webhook.replay", "webhook_delivery", delivery.id, before,
                     {"state": delivery.state, "next_attempt_at": now}, now)
        uow.commit()
        return view

