"""Oversight that reaches people: numbered supervision notices (督办通知, 附件3) and the reminders sent
to units and users by e-mail and group robots, with each recipient's preferences."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.db import Base
from kb.models.tasks import CorrectionTask
from kb.models.types import UTCDateTime
from kb.models.units import Unit


class SupervisionNotice(Base):
    """督办通知: the office's numbered, printable notice about an overdue task; the unit confirms receipt."""

    __tablename__ = "supervision_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    number: Mapped[int]  # 督（year）number 号, counted per year
    task_id: Mapped[int] = mapped_column(ForeignKey("correction_tasks.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    # What the notice says, frozen when issued: a later change of the task does not rewrite it.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reply: Mapped[str | None] = mapped_column(Text)  # the unit's word on the outcome, given on confirmation

    task: Mapped[CorrectionTask] = relationship()
    unit: Mapped[Unit] = relationship()

    __table_args__ = (UniqueConstraint("year", "number", name="uq_supervision_notices_year_number"),)


class Channel(StrEnum):
    EMAIL = "email"
    WECOM = "wecom"        # 企业微信群机器人
    DINGTALK = "dingtalk"  # 钉钉群机器人

    @property
    def label(self) -> str:
        return {"email": "电子邮件", "wecom": "企业微信群机器人", "dingtalk": "钉钉群机器人"}[self.value]


class UnitRobot(Base):
    """A unit's group robot: messages for the unit go to its work group."""

    __tablename__ = "unit_robots"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(12))
    url: Mapped[str] = mapped_column(String(500))
    # DingTalk's signing secret ("加签"), sealed with a key outside the database (kb.sealing)
    sealed_secret: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("channel IN ('wecom','dingtalk')", name="robot_channel"),)


class UserContact(Base):
    """Where and how a user wants reminders: e-mail, at once or as one daily digest."""

    __tablename__ = "user_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    email: Mapped[str | None] = mapped_column(String(200))
    notify: Mapped[bool] = mapped_column(default=True)
    daily_digest: Mapped[bool] = mapped_column(default=False)


class Notification(Base):
    """One message to one address, queued in the transaction that decided it and sent by the scheduler:
    retried with backoff, never sent again once sent, replayable by the office."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What it is about and for whom, e.g. "task-reminder:41:due_soon:user:7:email": made once.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(12))
    address: Mapped[str] = mapped_column(String(500))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    digest: Mapped[bool] = mapped_column(default=False)  # held for the recipient's daily digest
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    gave_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_notifications_waiting", "sent_at", "next_attempt_at"),
                      CheckConstraint("channel IN ('email','wecom','dingtalk')", name="valid_channel"))


class NotificationCursor(Base):
    """How far the notifier has read each source (the audit log, task reminders): each row is read once."""

    __tablename__ = "notification_cursors"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_id: Mapped[int] = mapped_column(default=0)
