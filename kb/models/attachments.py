"""Attachments: the basis documents (Art. 9(4)) uploaded to a change request and published with its version."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base
from kb.models.types import UTCDateTime


class Attachment(Base):
    """One uploaded file. Its bytes live in the attachment store under `storage_key`; the row is the truth."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The change request it was uploaded to; the unit owns it (谁提供谁负责).
    change_request_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    file_name: Mapped[str] = mapped_column(String(255))          # as uploaded, shown and offered on download
    media_type: Mapped[str] = mapped_column(String(100))         # from the content, never from the name
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    text: Mapped[str | None] = mapped_column(Text)               # extracted from PDF/DOCX, indexed for search
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VersionAttachment(Base):
    """A published version's files: its change request's uploads plus the files of the version it replaced."""

    __tablename__ = "knowledge_version_attachments"

    version_id: Mapped[int] = mapped_column(ForeignKey("knowledge_versions.id"), primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)

    __table_args__ = (Index("ix_knowledge_version_attachments_attachment", "attachment_id"),)
