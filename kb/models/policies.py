"""The register of policy documents (政策依据) that knowledge cites by 文号.

Entries cite a document through their published version's ``policy_number``,
normalised the same way as ``doc_number`` (``kb.submission.normalize_doc_number``),
so a citation is an equality of the two columns, not a separate table.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.db import Base
from kb.models.types import UTCDateTime
from kb.models.units import Unit


class PolicyStatus(StrEnum):
    IN_FORCE = "in_force"  # 现行有效
    AMENDED = "amended"    # 已修订
    REPEALED = "repealed"  # 已废止

    @property
    def label(self) -> str:
        return {"in_force": "现行有效", "amended": "已修订", "repealed": "已废止"}[self.value]

    @property
    def invalidates_citations(self) -> bool:
        return self is not PolicyStatus.IN_FORCE


class PolicyDocument(Base):
    __tablename__ = "policy_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_number: Mapped[str] = mapped_column(String(100), unique=True)  # 文号, normalised to 〔〕
    title: Mapped[str] = mapped_column(String(300))
    issuer: Mapped[str] = mapped_column(String(200))  # 发文机关
    published_on: Mapped[date] = mapped_column(Date)  # 发布日期
    effective_on: Mapped[date | None] = mapped_column(Date)  # 施行日期
    status: Mapped[str] = mapped_column(String(12))
    # The unit whose knowledge the policy concerns; a new policy opens a task for it.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    unit: Mapped[Unit | None] = relationship()

    __table_args__ = (
        CheckConstraint("status IN ('in_force','amended','repealed')", name="valid_status"),
        CheckConstraint("effective_on IS NULL OR effective_on >= published_on", name="effect_after_publication"),
    )


class PolicyStatusChange(Base):
    """One change of a document's status, from registration on. Tasks it opens point here."""

    __tablename__ = "policy_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("policy_documents.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(12))  # None: the registration
    to_status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)  # e.g. the document that repeals it
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("to_status IN ('in_force','amended','repealed')", name="valid_to_status"),
        CheckConstraint("from_status IS NULL OR from_status <> to_status", name="is_a_change"),
    )
