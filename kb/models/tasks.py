"""Correction tasks (纠错/更新任务), their history and reminders, and operators' flags.

A task's outcome is recorded when it happens (resolved_at, on_time,
overdue_marked_at, declined_at) and never recomputed afterwards, so a later
change of the rules or the calendar does not rewrite history.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.db import Base
from kb.deadlines import FeedbackReason, TaskSource
from kb.models.types import UTCDateTime
from kb.models.units import Unit


class TaskState(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"              # a change request is linked
    DECLINE_REQUESTED = "decline_requested"  # the unit says it is not theirs to fix; the office rules
    RESOLVED = "resolved"                    # the linked change was published (or the entry verified)
    DECLINED = "declined"                    # the office accepted the unit's justification

    @property
    def label(self) -> str:
        return {"open": "待处理", "in_progress": "处理中", "decline_requested": "申请退回",
                "resolved": "已办结", "declined": "已退回"}[self.value]

    @property
    def is_closed(self) -> bool:
        return self in (TaskState.RESOLVED, TaskState.DECLINED)


OPEN_STATES = (TaskState.OPEN.value, TaskState.IN_PROGRESS.value, TaskState.DECLINE_REQUESTED.value)


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class CorrectionTask(Base):
    __tablename__ = "correction_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)  # the unit that must act
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_entries.id"), index=True)  # None: a gap (缺漏)
    source: Mapped[str] = mapped_column(String(30))  # kb.deadlines.TaskSource
    # A FeedbackReason key for office feedback; free text for the other sources.
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)  # what is wrong or missing
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # The deadline counts days the calendar does not know yet; recomputed when it learns them.
    provisional: Mapped[bool] = mapped_column(default=False)
    working_days: Mapped[int | None]  # the working days it was given (the rule then in force); None: emergency
    state: Mapped[str] = mapped_column(String(20), index=True)
    change_request_id: Mapped[int | None] = mapped_column(ForeignKey("change_requests.id"), index=True)
    # Policy tasks: the document, and the status change (or registration) that opened the task.
    policy_document_id: Mapped[int | None] = mapped_column(ForeignKey("policy_documents.id"))
    policy_change_id: Mapped[int | None] = mapped_column(ForeignKey("policy_status_changes.id"))
    # Yearly verification tasks: the cycle they belong to. Expiry tasks: cycle_ends_on is the expiry date
    # they warn of (the entry's last day in effect).
    cycle_starts_on: Mapped[date | None] = mapped_column(Date)
    cycle_ends_on: Mapped[date | None] = mapped_column(Date)
    decline_justification: Mapped[str | None] = mapped_column(Text)
    decline_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_rejection: Mapped[str | None] = mapped_column(Text)  # the office's reason when it last said no
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_version: Mapped[int | None]  # the entry version that fixed (or was verified for) the task
    # When the unit did its part: its reviewer sent the fix that was then published to the office (or it
    # verified, or the entry was withdrawn). The unit is judged by it; None on rows resolved before it was kept.
    unit_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    on_time: Mapped[bool | None]  # (unit_done_at or resolved_at) <= due_at, decided at resolution
    overdue_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first found overdue
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # None: the system
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    unit: Mapped[Unit] = relationship()
    events: Mapped[list["TaskEvent"]] = relationship(order_by="TaskEvent.id", back_populates="task")

    __table_args__ = (
        CheckConstraint(_in("source", TaskSource), name="valid_source"),
        CheckConstraint(_in("state", TaskState), name="valid_state"),
        CheckConstraint("source <> 'office_feedback' OR " + _in("reason", FeedbackReason),
                        name="feedback_has_reason"),
        CheckConstraint("state <> 'in_progress' OR change_request_id IS NOT NULL", name="in_progress_is_linked"),
        CheckConstraint("state <> 'resolved' OR (resolved_at IS NOT NULL AND on_time IS NOT NULL)",
                        name="resolved_has_outcome"),
        CheckConstraint("state <> 'declined' OR declined_at IS NOT NULL", name="declined_has_time"),
        CheckConstraint("state <> 'decline_requested' OR decline_justification IS NOT NULL",
                        name="decline_has_justification"),
        CheckConstraint("source <> 'yearly_verification' OR (entry_id IS NOT NULL AND cycle_starts_on IS NOT NULL"
                        " AND cycle_ends_on IS NOT NULL)", name="verification_names_cycle"),
        # Exactly one task per entry for each status change of a cited document, however often it is repeated.
        UniqueConstraint("policy_change_id", "entry_id", name="uq_correction_tasks_policy_change_entry"),
        # One verification task per entry per cycle.
        UniqueConstraint("entry_id", "cycle_starts_on", name="uq_correction_tasks_entry_cycle"),
        Index("ix_correction_tasks_unit_state", "unit_id", "state"),
    )


class TaskEvent(Base):
    """One step in a task's history, shown to the unit and the office."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("correction_tasks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # opened, linked, decline_requested, resolved, ...
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the scheduler or a command
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    task: Mapped[CorrectionTask] = relationship(back_populates="events")


class ReminderKind(StrEnum):
    DUE_SOON = "due_soon"  # due within one working day
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {"due_soon": "即将到期", "overdue": "已超期"}[self.value]


class TaskReminder(Base):
    """A reminder shown in the unit's inbox; at most one per task and kind."""

    __tablename__ = "task_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("correction_tasks.id"))
    kind: Mapped[str] = mapped_column(String(12))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the deadline it reminds of
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("kind IN ('due_soon','overdue')", name="valid_kind"),
        UniqueConstraint("task_id", "kind", name="uq_task_reminders_task_kind"),
    )


class FlagKind(StrEnum):
    SUGGESTION = "suggestion"      # 话务员建议
    WRONG_ANSWER = "wrong_answer"  # 答案错误或过时

    @property
    def label(self) -> str:
        return {"suggestion": "话务员建议", "wrong_answer": "答案错误或过时"}[self.value]


class FlagState(StrEnum):
    PENDING = "pending"      # waiting for the office
    ACCEPTED = "accepted"    # turned into a task for the unit
    DISMISSED = "dismissed"  # dismissed with a reason

    @property
    def label(self) -> str:
        return {"pending": "待热线办处理", "accepted": "已转交承办单位", "dismissed": "未采纳"}[self.value]


class FlagCause(StrEnum):
    """Why a wrong answer was wrong, as the office finds when it accepts the flag."""

    LATE_POLICY = "late_policy"  # 新政策对接不及时 (Huantai 3.3)

    @property
    def label(self) -> str:
        return {"late_policy": "新政策对接不及时"}[self.value]


class KnowledgeFlag(Base):
    """An operator's suggestion or "this answer is wrong/outdated" on a published entry (Huantai 3.2)."""

    __tablename__ = "knowledge_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("knowledge_entries.id"), index=True)
    entry_version: Mapped[int]  # the version the operator read
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(12), index=True)
    triaged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    triage_reason: Mapped[str | None] = mapped_column(Text)  # the office's note; required to dismiss
    task_id: Mapped[int | None] = mapped_column(ForeignKey("correction_tasks.id"), unique=True)
    cause: Mapped[str | None] = mapped_column(String(20))  # FlagCause, set by the office on acceptance; None: none given

    task: Mapped[CorrectionTask | None] = relationship()

    __table_args__ = (
        CheckConstraint("kind IN ('suggestion','wrong_answer')", name="valid_kind"),
        CheckConstraint("state IN ('pending','accepted','dismissed')", name="valid_state"),
        CheckConstraint("state <> 'accepted' OR task_id IS NOT NULL", name="accepted_has_task"),
        CheckConstraint("state <> 'dismissed' OR triage_reason IS NOT NULL", name="dismissed_has_reason"),
        CheckConstraint("cause IS NULL OR cause IN ('late_policy')", name="valid_cause"),
    )
