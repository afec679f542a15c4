"""The delivery queue of the webhooks: what the dispatcher in ``scoring_hooks.webhooks`` claims and records.

Deliveries are written by :func:`kb.services.webhooks.enqueue` inside the
transaction that caused the event (an outbox row), so a rolled-back change
sends nothing. The dispatcher then, outside any transaction:

1. :func:`claim_due_deliveries` — in one transaction, takes the pending rows
   that are due, pushes their ``next_attempt_at`` a little into the future
   (so a process that dies mid-POST only delays the retry, never loses the
   delivery) and hands them out as frozen :class:`PendingDelivery` records;
2. POSTs each one (no transaction open while waiting on a receiver);
3. :func:`record_attempt` — logs the attempt and moves the delivery to
   delivered, pending (with the next attempt time) or failed.

Nothing here knows the retry schedule: the dispatcher passes
``retry_in_seconds`` (None: no more attempts).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from kb.db import UowFactory
from kb.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from kb.sealing import SecretBox, SecretUnreadable

#: The events a subscription may ask for, and their Chinese names.
EVENTS: tuple[str, ...] = ("period.closed", "task.overdue", "score.changed")
EVENT_LABELS: dict[str, str] = {
    "period.closed": "考核月份结账（月度计数已冻结）",
    "task.overdue": "纠错任务超期",
    "score.changed": "考核得分变化",
}

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATE_LABELS = {PENDING: "待发送", DELIVERED: "已送达", FAILED: "发送失败"}

_ERROR_LIMIT = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingDelivery:
    """One delivery claimed for one attempt: everything the POST needs, nothing of the ORM."""

    id: int
    delivery_key: str  # X-KB-Delivery: the same on every attempt and on replays
    event: str
    url: str
    secret: str | None  # None: no configured key opens the stored one (KB_SECRETS_KEY changed); not sent
    body: str  # the exact JSON to sign and send
    attempt_number: int  # 1-based, counting every earlier attempt (replays included)
    replay: bool  # the office asked for this attempt


def claim_due_deliveries(uow_factory: UowFactory, now: datetime, *, secret_box: SecretBox, limit: int = 50,
                         claim_seconds: int = 120) -> list[PendingDelivery]:
    """Pending deliveries of active subscriptions due by `now`, oldest first, claimed for `claim_seconds`,
    each with its subscription's secret opened with `secret_box`.

    Claiming moves `next_attempt_at` to now + claim_seconds in the same
    transaction; rows another dispatcher has locked are skipped (PostgreSQL).
    """
    with uow_factory() as uow:
        s = uow.session
        rows = s.execute(
            select(WebhookDelivery, WebhookSubscription.url, WebhookSubscription.sealed_secret)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.state == PENDING, WebhookDelivery.next_attempt_at <= now,
                   WebhookSubscription.active.is_(True))
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
            .with_for_update(of=WebhookDelivery, skip_locked=True)).all()
        claimed = []
        for delivery, url, sealed in rows:
            delivery.next_attempt_at = now + timedelta(seconds=claim_seconds)
            claimed.append(PendingDelivery(
                id=delivery.id, delivery_key=delivery.delivery_key, event=delivery.event, url=url,
                secret=_opened(secret_box, sealed),
                body=delivery.body, attempt_number=delivery.attempts + 1,
                replay=delivery.replay_requested_at is not None))
        s.flush()
        uow.commit()
        return claimed


def _opened(secret_box: SecretBox, sealed: str) -> str | None:
    try:
        return secret_box.open(sealed)
    except SecretUnreadable:
        return None


def record_attempt(uow_factory: UowFactory, delivery_id: int, *, ok: bool, status: int | None,
                   error: str | None, duration_ms: int, attempted_at: datetime, retry_in_seconds: float | None,
                   replay: bool = False) -> str:
    """Log one attempt and settle the delivery; returns its new state.

    ok → delivered; a failure with `retry_in_seconds` → pending until
    attempted_at + retry_in_seconds; a failure without → failed. A delivery
    cancelled meanwhile (its subscription deleted) stays failed unless this
    attempt got through.
    """
    with uow_factory() as uow:
        s = uow.session
        delivery = s.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                            .with_for_update(of=WebhookDelivery))
        if delivery is None:
            raise LookupError(f"webhook delivery {delivery_id} does not exist")
        error = error[:_ERROR_LIMIT] if error else None
        delivery.attempts += 1
        s.add(WebhookAttempt(delivery_id=delivery.id, number=delivery.attempts, attempted_at=attempted_at, ok=ok,
                             status=status, error=error, duration_ms=max(0, int(duration_ms)), replay=replay))
        delivery.last_status, delivery.last_error = status, error
        if replay:
            delivery.replay_requested_at = None
        if ok:
            delivery.state, delivery.delivered_at, delivery.next_attempt_at = DELIVERED, attempted_at, None
        elif retry_in_seconds is not None and delivery.state == PENDING:
            delivery.next_attempt_at = attempted_at + timedelta(seconds=retry_in_seconds)
        else:
            delivery.state, delivery.next_attempt_at = FAILED, None
        s.flush()
        state = delivery.state
        uow.commit()
        return state
