"""Scheduled job runs and the lease that lets one process run them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base
from kb.models.types import UTCDateTime


class JobRun(Base):
    """One run of a job, with its outcome. A run left `running` was interrupted."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(12))  # scheduler | command
    holder: Mapped[str] = mapped_column(String(120))  # host:pid that ran it
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(10))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what the run did, e.g. {"opened": 3}
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("outcome IN ('running','ok','failed')", name="valid_outcome"),
        CheckConstraint("trigger IN ('scheduler','command')", name="valid_trigger"),
        CheckConstraint("outcome = 'running' OR finished_at IS NOT NULL", name="finished_has_time"),
        Index("ix_job_runs_job_started", "job", "started_at"),
    )


class SchedulerLease(Base):
    """Who runs the scheduled jobs, until when. Used where advisory locks are not available (SQLite)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
