"""What the scoring engine is given: frozen monthly counts, webhook subscriptions and their deliveries."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.db import Base
from kb.models.types import UTCDateTime


class ComplianceSnapshot(Base):
    """A unit's compliance counts for a closed month, frozen when the month was closed.

    One row per unit, month and set of deadline rules (profiles may judge
    lateness by different deadlines). Only an explicit office recompute
    rewrites it, and that is audited.
    """

    __tablename__ = "compliance_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_label: Mapped[str] = mapped_column(String(30))  # "2026-10"
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    rules_key: Mapped[str] = mapped_column(String(64))  # canonical form of the deadline rules used
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)  # UnitCompliance.to_dict()
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recomputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recomputed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        UniqueConstraint("period_label", "unit_id", "rules_key", name="uq_compliance_snapshots_period_unit_rules"),
        Index("ix_compliance_snapshots_period", "period_label", "rules_key"),
    )


class WebhookSubscription(Base):
    """A receiver the office registered for some events."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    # Every delivery is signed with the secret (HMAC needs the secret itself, not a hash), so it is kept
    # sealed with a key outside the database (kb.sealing), not hashed.
    sealed_secret: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One event for one subscription, written in the transaction that caused it and sent after commit."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    delivery_key: Mapped[str] = mapped_column(String(40), unique=True)  # X-KB-Delivery; receivers drop repeats
    body: Mapped[str] = mapped_column(Text)  # the exact JSON that is signed and sent
    state: Mapped[str] = mapped_column(String(12), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set by an office's replay; the next attempt is logged as a replay and clears it.
    replay_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    subscription: Mapped[WebhookSubscription] = relationship()

    __table_args__ = (
        CheckConstraint("state IN ('pending','delivered','failed')", name="valid_state"),
        CheckConstraint("state <> 'pending' OR next_attempt_at IS NOT NULL", name="pending_has_next_attempt"),
        CheckConstraint("state <> 'delivered' OR delivered_at IS NOT NULL", name="delivered_has_time"),
    )


class WebhookAttempt(Base):
    """One POST of a delivery and what came back: the delivery log."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    number: Mapped[int]
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool]
    status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int]
    replay: Mapped[bool] = mapped_column(default=False)  # sent on an office's replay, not the schedule
