"""What search learns from: synonyms the office manages, the search log, answers used."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base
from kb.models.types import UTCDateTime


class SynonymGroup(Base):
    """Everyday words and their standard terms (口语 ↔ 规范词), applied at query time."""

    __tablename__ = "synonym_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    terms: Mapped[list[str]] = mapped_column(JSON)  # first term is the standard one
    note: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SearchSettingsRevision(Base):
    """Bumped whenever synonyms change, so every process reloads them."""

    __tablename__ = "search_settings_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(default=0)


class SearchLog(Base):
    """One operator search: the query and its outcome, never caller data."""

    __tablename__ = "search_logs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # Random id handed back with results, so "used this answer" can name its search.
    search_key: Mapped[str] = mapped_column(String(32), unique=True)
    searched_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    query: Mapped[str] = mapped_column(Text)
    query_key: Mapped[str] = mapped_column(String(200), index=True)  # normalised, for grouping gaps
    mode: Mapped[str] = mapped_column(String(10))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result_count: Mapped[int]
    top_entry_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    latency_ms: Mapped[float]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class KnowledgeUsage(Base):
    """An operator used this answer on a call (feeds usage counts and the hot list)."""

    __tablename__ = "knowledge_usages"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("knowledge_entries.id"))
    version: Mapped[int]
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    search_key: Mapped[str | None] = mapped_column(String(32), index=True)
    ticket_number: Mapped[str | None] = mapped_column(String(64))
    # Art. 11 直办率: the operator answered the call from this entry (False: it still went to a unit as a ticket).
    answered_directly: Mapped[bool] = mapped_column(default=True, server_default=true())

    __table_args__ = (
        Index("ix_knowledge_usages_entry_used", "entry_id", "used_at"),
        Index("ix_knowledge_usages_unit_used", "unit_id", "used_at"),
        Index("ix_knowledge_usages_used_at", "used_at"),  # the hot list and 直办率 read a window of days
    )
