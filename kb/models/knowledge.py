"""Categories, knowledge entries with their immutable versions, change requests and reviews."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.db import Base
from kb.models.types import UTCDateTime
from kb.models.units import Unit, User
from kb.proposal import FIELDS as PROPOSAL_FIELDS


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    position: Mapped[int] = mapped_column(default=0)
    # 通知公告 and the like: expired entries are withdrawn by the scheduler.
    is_notice: Mapped[bool] = mapped_column(default=False)

    parent: Mapped["Category | None"] = relationship(remote_side=[id])

    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_categories_parent_name"),)


class EntryFormat(StrEnum):
    QA = "qa"              # 一问一答
    DOCUMENT = "document"  # uploaded another way (Nankang scores it lower)


class EntryStatus(StrEnum):
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"  # deleted as invalid or revoked; history kept


class KnowledgeEntry(Base):
    """A piece of knowledge as operators see it: the published version of it.

    Rows exist from the first publication on; unpublished new knowledge lives
    in its change request.
    """

    __tablename__ = "knowledge_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    # Number of the published version; edits name it and a stale one is a conflict.
    published_number: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # last publication of a version
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())   # last 校核 without change
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A published modification waiting for its date of effect (Art. 10(2) "实施之前"): the published version
    # stays live until that day, when the job switch_scheduled_versions makes this one the published one.
    scheduled_number: Mapped[int | None]

    unit: Mapped[Unit] = relationship()
    published_version: Mapped["KnowledgeVersion"] = relationship(
        primaryjoin="and_(KnowledgeVersion.entry_id == KnowledgeEntry.id, "
                    "KnowledgeVersion.number == KnowledgeEntry.published_number)",
        viewonly=True, uselist=False, lazy="joined")

    __table_args__ = (
        CheckConstraint("status IN ('published','withdrawn')", name="valid_status"),
        CheckConstraint("published_number >= 1", name="has_published_version"),
        CheckConstraint("status <> 'withdrawn' OR withdrawn_at IS NOT NULL", name="withdrawn_has_time"),
    )


class KnowledgeVersion(Base):
    """One immutable, numbered state of an entry's content."""

    __tablename__ = "knowledge_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("knowledge_entries.id"))
    number: Mapped[int]
    question: Mapped[str] = mapped_column(Text)
    # Question folded for duplicate detection (width, case, punctuation).
    question_key: Mapped[str] = mapped_column(String(500), index=True)
    similar_questions: Mapped[list[str]] = mapped_column(JSON, default=list)  # 相似问法
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    policy_title: Mapped[str | None] = mapped_column(String(300))
    policy_number: Mapped[str | None] = mapped_column(String(100))  # 文号, normalised to 〔〕
    policy_attachments: Mapped[int] = mapped_column(default=0)
    effective_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    urgent: Mapped[bool] = mapped_column(default=False)
    format: Mapped[str] = mapped_column(String(10), default=EntryFormat.QA.value)
    change_request_id: Mapped[int | None] = mapped_column(ForeignKey("change_requests.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    category: Mapped[Category] = relationship()

    __table_args__ = (
        UniqueConstraint("entry_id", "number", name="uq_knowledge_versions_entry_number"),
        CheckConstraint("format IN ('qa','document')", name="valid_format"),
        CheckConstraint("expires_on IS NULL OR expires_on >= effective_on", name="expiry_after_effect"),
    )

    def content(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in CONTENT_FIELDS}


# The fields a change request proposes and a version freezes: question, similar_questions, answer, keywords,
# category_id, policy_title, policy_number, policy_attachments, effective_on, expires_on, urgent, format.
CONTENT_FIELDS = PROPOSAL_FIELDS


class ChangeKind(StrEnum):
    NEW = "new"                # 新增知识
    MODIFY = "modify"          # 修改规范答案
    DELETE = "delete"          # 失效知识上报删除
    REVOKE = "revoke"          # 知识撤销申请
    SUGGESTION = "suggestion"  # 知识建议

    @property
    def label(self) -> str:
        return {"new": "新增知识", "modify": "修改规范答案", "delete": "失效知识上报删除",
                "revoke": "知识撤销申请", "suggestion": "知识建议"}[self.value]

    @property
    def carries_content(self) -> bool:
        return self in (ChangeKind.NEW, ChangeKind.MODIFY)


class ChangeRequest(Base):
    """A proposed change moving draft → unit review → office review → published."""

    __tablename__ = "change_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_entries.id"), index=True)
    # The published version the change was based on; publishing a stale one is refused.
    base_number: Mapped[int | None]
    # Proposed content for new/modify (same keys as CONTENT_FIELDS, JSON-ready values).
    proposal: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)  # why delete/revoke, or the suggestion itself
    # Bumped on every write; clients send it back as If-Match.
    revision: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_number: Mapped[int | None]  # the version this change published
    # Published by the office without unit review (Art. 10(3) urgent knowledge).
    published_directly: Mapped[bool] = mapped_column(default=False)
    last_return_reason: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[Unit] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    reviews: Mapped[list["Review"]] = relationship(order_by="Review.id", back_populates="change_request")

    __table_args__ = (
        CheckConstraint("kind IN ('new','modify','delete','revoke','suggestion')", name="valid_kind"),
        CheckConstraint(
            "state IN ('draft','unit_review','office_review','returned','published','cancelled','declined')",
            name="valid_state"),
        CheckConstraint("kind IN ('new','suggestion') OR entry_id IS NOT NULL", name="changes_name_entry"),
        CheckConstraint("state <> 'published' OR published_at IS NOT NULL", name="published_has_time"),
        Index("ix_change_requests_unit_state", "unit_id", "state"),
    )


class Review(Base):
    """A unit or office decision on a change request, with the Art. 9 checks."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_request_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10))        # unit | office
    decision: Mapped[str] = mapped_column(String(10))     # approve | return | publish
    checks: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The unit reviewer's own changes to the proposal (Art. 8(2) "修改或完善并审定"): field → {before, after},
    # made on the revision named in based_on_revision. None: approved as submitted.
    amendments: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    based_on_revision: Mapped[int | None]

    change_request: Mapped[ChangeRequest] = relationship(back_populates="reviews")
    reviewer: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("stage IN ('unit','office')", name="valid_stage"),
        CheckConstraint("decision IN ('approve','return','publish','accept','decline')", name="valid_decision"),
    )


class KnowledgeVerification(Base):
    """One 校核: a unit reviewer confirmed the published version still right, unchanged.

    The entry keeps only its latest verification; these rows keep every one,
    so counts for a past period stay what they were.
    """

    __tablename__ = "knowledge_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("knowledge_entries.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))  # the owning unit at the time
    version: Mapped[int]
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_knowledge_verifications_unit_verified", "unit_id", "verified_at"),)
