"""Operator search and what it learns: the search log, answers used, synonyms (gaps: kb.services.gaps)."""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from kb.access import Actor, require_role
from kb.calendar import json_value, to_shanghai
from kb.db import UnitOfWork, UowFactory
from kb.errors import NotFound, ValidationFailed
from kb.models import EntryStatus, KnowledgeEntry, KnowledgeVersion, Role, Unit
from kb.models.search import KnowledgeUsage, SearchLog, SearchSettingsRevision, SynonymGroup
from kb.search import outbox
from kb.search.analyzer import normalize
from kb.search.backend import SearchHit as IndexHit
from kb.search.backend import SearchQuery, SearchResult
from kb.search.redaction import loggable_query
from kb.search.synonyms import SynonymFormatError, parse_lines
from kb.services import audit
from kb.services.knowledge import get_entry

log = logging.getLogger(__name__)

SEARCHERS = (Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
MAX_QUERY_CHARS = 2000
MAX_TICKET_CHARS = 5000
FACET_BUCKETS = 20  # per facet in an answer: what a result page can show, and cheap to serialize


class SearchableIndex(Protocol):
    """What the use cases ask of the search index (``kb.search.sync.SearchIndex``)."""

    def search(self, query: SearchQuery) -> SearchResult: ...

    def suggest(self, prefix: str, today: date, limit: int = 8) -> list[str]: ...

    def related(self, entry_id: int, today: date, limit: int = 5) -> list[IndexHit]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchHit:
    """A hit of a search (or a related entry): the entry, its score and highlights, and what the index stored.

    ``document`` is the index's stored payload, as the index gave it (version,
    question, unit_code, unit_name, category_id, updated_at, effective_on, …):
    open-ended, since payload sources (``kb.search.sync.PAYLOAD_SOURCES``) add
    fields; read only.
    """

    entry_id: int
    score: float  # rounded to 4 places
    highlights: Mapping[str, str]  # field -> HTML-escaped snippet with <em>…</em>
    document: Mapping[str, Any]

    @classmethod
    def of(cls, hit: IndexHit) -> SearchHit:
        document = hit.payload
        for name in ("updated_at", "verified_at"):  # an index built before times were stored at +08:00
            value = document.get(name)
            if value and value.endswith("+00:00"):
                document = {**document, name: json_value(datetime.fromisoformat(value))}
        return cls(entry_id=hit.entry_id, score=round(hit.score, 4), highlights=hit.highlights, document=document)


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryCount:
    category_id: int
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitCount:
    unit_code: str
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FacetCounts:
    """Matches by leaf category and by unit over all matches, the FACET_BUCKETS largest of each, largest first."""

    category: tuple[CategoryCount, ...]
    unit: tuple[UnitCount, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchPage:
    """One page of results. ``total`` is a lower bound unless ``total_exact``; ``facets`` only when asked for."""

    search_id: str  # links answers used to this search
    total: int
    total_exact: bool
    took_ms: float
    hits: tuple[SearchHit, ...]
    facets: FacetCounts | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Suggestions:
    """Type-ahead: questions and similar phrasings for what was typed, best first."""

    prefix: str
    suggestions: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageSnapshot:
    """An answer an operator used on a call."""

    id: int
    entry_id: int
    version: int
    used_at: datetime
    search_id: str | None
    ticket_number: str | None
    answered_directly: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class HotEntrySnapshot:
    """An entry in effect and how often its answer was used in the window."""

    entry_id: int
    question: str
    unit_code: str
    usages: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SynonymImportReport:
    added: int  # groups added
    groups: int  # groups read from the text


def _clean(text: str, limit: int) -> str:
    text = "".join(ch for ch in text if ch in "\n\t" or ch >= " ")
    if len(text) > limit:
        raise ValidationFailed({"q": f"检索内容不能超过 {limit} 个字符"})
    return text.strip()


class SearchLogBuffer:
    """Search log rows written in small batches by a thread of their own, so a search never waits on a write.

    The thread writes a batch when it reaches ``max_rows`` or, at the latest,
    ``max_age_s`` after its first row (so an idle worker does not sit on its
    rows); ``flush`` writes at once (the gap report calls it, and ``service.app``
    registers it with ``atexit``). A search only appends its row: the write
    (and any wait for the database's write lock) happens beside it. A write that
    fails is retried after ``max_age_s``, with the rows that came meanwhile; at
    most ``MAX_PENDING_BATCHES`` batches wait.

    ``full_batch_in_background=False`` has the search that fills a batch write
    it itself: for a caller whose unit of work must stay on one thread (the API
    tests run every request on one database connection).
    """

    MAX_PENDING_BATCHES = 10
    IDLE_EXIT_S = 60.0

    def __init__(self, uow_factory: UowFactory, *, max_rows: int = 100, max_age_s: float = 1.0,
                 full_batch_in_background: bool = True) -> None:
        self._uow_factory = uow_factory
        self.max_rows, self.max_age_s = max_rows, max_age_s
        self.full_batch_in_background = full_batch_in_background
        self._reset()

    def _reset(self) -> None:
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._oldest = 0.0
        self._retry_at = 0.0  # after a failed write: not before then
        self._flusher: threading.Thread | None = None
        self._pid = os.getpid()

    def add(self, row: dict[str, Any]) -> None:
        if self._pid != os.getpid():  # forked (a gunicorn worker): the parent's thread and rows are not ours
            self._reset()
        with self._lock:
            if not self._rows:
                self._oldest = time.monotonic()
            self._rows.append(row)
            self._start_flusher()
            due = len(self._rows) >= self.max_rows
            if len(self._rows) == 1 or (due and self.full_batch_in_background):  # its due time changed
                self._wake.notify()
        if due and not self.full_batch_in_background:
            try:
                self.flush()
            except Exception:  # a search must not fail because its log row could not be written yet
                log.warning("search log rows could not be written; kept for the next batch", exc_info=True)

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def _start_flusher(self) -> None:  # with the lock held
        if self._flusher is None or not self._flusher.is_alive():
            self._flusher = threading.Thread(target=self._flush_when_due, name="search-log-flush", daemon=True)
            self._flusher.start()

    def _due_at(self) -> float:  # with the lock held and rows waiting
        full = len(self._rows) >= self.max_rows and self.full_batch_in_background
        # Told to leave full batches to the searches, the thread only writes what waited max_age_s: it
        # must never write beside a search on a unit of work that has to stay on one thread.
        return max(self._retry_at if full else self._oldest + self.max_age_s, self._retry_at)

    def _flush_when_due(self) -> None:
        while True:
            with self._lock:
                while True:
                    if not self._rows:
                        if not self._wake.wait(self.IDLE_EXIT_S) and not self._rows:
                            self._flusher = None  # idle: the next row starts a new thread
                            return
                        continue
                    wait = self._due_at() - time.monotonic()
                    if wait <= 0:
                        break
                    self._wake.wait(wait)
            try:
                self.flush()
            except Exception:  # the database may be away for a moment; the rows were put back for later
                log.warning("search log rows could not be written; retrying", exc_info=True)

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return
        try:
            with self._uow_factory(write=True) as uow:
                uow.session.execute(insert(SearchLog), rows)  # one executemany: no ORM objects for log rows
                uow.commit()
        except Exception:
            with self._lock:
                kept = (rows + self._rows)[-self.max_rows * self.MAX_PENDING_BATCHES:]
                self._rows = kept
                self._oldest = time.monotonic()
                self._retry_at = self._oldest + self.max_age_s
            raise
        with self._lock:
            self._retry_at = 0.0


def search(index: SearchableIndex, log_buffer: SearchLogBuffer | None, actor: Actor, *, text: str, today: date, now: datetime,
           category_id: int | None = None, unit_codes: tuple[str, ...] = (), offset: int = 0, limit: int = 10,
           mode: Literal["query", "ticket"] = "query", facets: bool = False, exact_total: bool = False,
           semantic: bool = True) -> SearchPage:
    """One page of results; with ``facets``, also counts by leaf category and unit over all matches.

    ``semantic`` False: the lexical index alone, as before hybrid search (for comparison).

    Facets cost about as much as the search itself at 100k entries, so they are
    computed only when asked for (as Elasticsearch computes aggregations only
    when a request names them); without them the page's ``facets`` is None (and
    the answer has no ``facets`` key).
    """
    require_role(actor, *SEARCHERS)
    text = _clean(text, MAX_TICKET_CHARS if mode == "ticket" else MAX_QUERY_CHARS)
    started = time.perf_counter()
    result = index.search(SearchQuery(text=text, today=today, category_id=category_id, unit_codes=unit_codes,
                                      offset=offset, limit=limit, mode=mode, facets=facets,
                                      exact_total=exact_total, semantic=semantic))
    latency_ms = (time.perf_counter() - started) * 1000
    # Links answers used to this search; unique, not secret. random reseeds in each forked worker, and
    # os.urandom (secrets) costs ~35 µs a call on this kind of VM.
    search_key = f"{random.getrandbits(64):016x}"
    if log_buffer is not None and text:
        logged = loggable_query(text, mode)[:500]  # no caller data: see kb.search.redaction
        log_buffer.add({
            "search_key": search_key, "searched_at": now, "query": logged,
            "query_key": normalize(logged)[:200], "mode": mode,
            "filters": {"category_id": category_id, "units": list(unit_codes), "offset": offset},
            "result_count": result.total, "top_entry_ids": [h.entry_id for h in result.hits[:10]],
            "latency_ms": round(latency_ms, 3), "user_id": actor.user_id})
    facet_counts = None
    if facets:
        facet_counts = FacetCounts(
            category=tuple(CategoryCount(category_id=k, count=v) for k, v in _largest(result.facets.get("category"))),
            unit=tuple(UnitCount(unit_code=k, count=v) for k, v in _largest(result.facets.get("unit"))))
    return SearchPage(search_id=search_key, total=result.total, total_exact=result.total_exact,
                      took_ms=round(latency_ms, 2), hits=tuple(SearchHit.of(h) for h in result.hits),
                      facets=facet_counts)


def _largest(buckets: Mapping[Any, int] | None) -> list[tuple[Any, int]]:
    """The FACET_BUCKETS largest facet buckets, largest first (ties by key)."""
    return sorted((buckets or {}).items(), key=lambda kv: (-kv[1], str(kv[0])))[:FACET_BUCKETS]


def suggest(index: SearchableIndex, actor: Actor, *, prefix: str, today: date, limit: int = 8) -> Suggestions:
    """Type-ahead: questions and similar phrasings of entries in effect today that match what was typed."""
    require_role(actor, *SEARCHERS)
    return Suggestions(prefix=prefix, suggestions=tuple(index.suggest(_clean(prefix, MAX_QUERY_CHARS), today, limit)))


def related(uow: UnitOfWork, index: SearchableIndex, actor: Actor, entry_id: int, *, today: date,
            limit: int = 5) -> list[SearchHit]:
    """Entries in effect like this one; 404 when the caller cannot read the entry itself."""
    get_entry(uow, actor, entry_id, today=today)  # NotFound for unknown ids, and for operators on unpublished ones
    return [SearchHit.of(h) for h in index.related(entry_id, today, limit)]


def record_usage(uow: UnitOfWork, actor: Actor, entry_id: int, *, search_id: str | None, ticket_number: str | None,
                 now: datetime, answered_directly: bool = True) -> UsageSnapshot:
    """An operator used this answer on a call."""
    require_role(actor, Role.OPERATOR, Role.OFFICE_ADMIN)
    with uow:
        entry = uow.session.get(KnowledgeEntry, entry_id)
        today = to_shanghai(now).date()
        version = entry.published_version if entry is not None else None
        # Only an answer the operator could see: published and in effect today, like reading it.
        if (entry is None or version is None or entry.status != EntryStatus.PUBLISHED.value
                or version.effective_on > today
                or (version.expires_on is not None and version.expires_on < today)):
            raise NotFound(f"知识 {entry_id} 不存在或已下架", code="entry_not_found")
        usage = KnowledgeUsage(entry_id=entry_id, version=entry.published_number, unit_id=entry.unit_id,
                               used_at=now, user_id=actor.user_id, search_key=search_id,
                               ticket_number=ticket_number, answered_directly=answered_directly)
        uow.session.add(usage)
        uow.session.flush()
        snapshot = UsageSnapshot(id=usage.id, entry_id=entry_id, version=usage.version, used_at=now,
                                 search_id=search_id, ticket_number=ticket_number,
                                 answered_directly=answered_directly)
        uow.commit()
        return snapshot


def hot_knowledge(uow: UnitOfWork, actor: Actor, *, since: datetime, today: date,
                  limit: int = 20) -> list[HotEntrySnapshot]:
    """The answers used most in effect today (usages since ``since``), most used first."""
    require_role(actor, *SEARCHERS)
    with uow:
        # Count the window's usages first (an index range on used_at), then join the few entries used:
        # joining every published entry to its usages first read all 100,000 entries (0.5 s) for none used.
        used = (select(KnowledgeUsage.entry_id, func.count().label("usages"))
                .where(KnowledgeUsage.used_at >= since).group_by(KnowledgeUsage.entry_id).subquery())
        rows = uow.session.execute(
            select(KnowledgeEntry.id, KnowledgeVersion.question, Unit.code, used.c.usages)
            .select_from(used)
            .join(KnowledgeEntry, KnowledgeEntry.id == used.c.entry_id)
            .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                  & (KnowledgeVersion.number == KnowledgeEntry.published_number))
            .join(Unit, Unit.id == KnowledgeEntry.unit_id)
            .where(KnowledgeEntry.status == EntryStatus.PUBLISHED.value,
                   KnowledgeVersion.effective_on <= today,
                   (KnowledgeVersion.expires_on.is_(None)) | (KnowledgeVersion.expires_on >= today))
            .order_by(used.c.usages.desc(), KnowledgeEntry.id).limit(limit)).all()
        return [HotEntrySnapshot(entry_id=r[0], question=r[1], unit_code=r[2], usages=r[3]) for r in rows]


# -- synonyms ----------------------------------------------------------------
def _bump_revision(session: Session) -> None:
    outbox.note_change(session)  # this process's searches use the new synonyms at once
    row = session.get(SearchSettingsRevision, 1)
    if row is None:
        session.add(SearchSettingsRevision(id=1, revision=1))
    else:
        row.revision += 1


@dataclass(frozen=True, slots=True, kw_only=True)
class SynonymGroupSnapshot:
    """A group of synonyms; the first term is the preferred one."""

    id: int
    terms: tuple[str, ...]
    note: str | None
    updated_at: datetime

    @classmethod
    def of(cls, group: SynonymGroup) -> SynonymGroupSnapshot:
        return cls(id=group.id, terms=tuple(group.terms), note=group.note, updated_at=group.updated_at)


def _synonym_record(group: SynonymGroup) -> dict[str, Any]:
    """A synonym group as the audit log records it."""
    return {"id": group.id, "terms": list(group.terms), "note": group.note, "updated_at": group.updated_at}


def _check_terms(terms: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(t.strip() for t in terms if t and t.strip()))
    if len(cleaned) < 2:
        raise ValidationFailed({"terms": "一组同义词至少包含两个不同的词"})
    return cleaned


def list_synonyms(uow: UnitOfWork, actor: Actor) -> list[SynonymGroupSnapshot]:
    require_role(actor, *SEARCHERS)
    with uow:
        return [SynonymGroupSnapshot.of(g) for g in uow.session.scalars(select(SynonymGroup).order_by(SynonymGroup.id))]


def create_synonyms(uow: UnitOfWork, actor: Actor, *, terms: list[str], note: str | None,
                    now: datetime) -> SynonymGroupSnapshot:
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        group = SynonymGroup(terms=_check_terms(terms), note=note, updated_at=now)
        uow.session.add(group)
        _bump_revision(uow.session)
        uow.session.flush()
        audit.record(uow.session, actor, "synonyms.create", "synonym_group", group.id, None, _synonym_record(group),
                     now)
        snapshot = SynonymGroupSnapshot.of(group)
        uow.commit()
        return snapshot


def update_synonyms(uow: UnitOfWork, actor: Actor, group_id: int, *, terms: list[str], note: str | None,
                    now: datetime) -> SynonymGroupSnapshot:
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        group = uow.session.get(SynonymGroup, group_id)
        if group is None:
            raise NotFound("同义词组不存在", code="synonyms_not_found")
        before = _synonym_record(group)
        group.terms, group.note, group.updated_at = _check_terms(terms), note, now
        _bump_revision(uow.session)
        uow.session.flush()
        audit.record(uow.session, actor, "synonyms.update", "synonym_group", group.id, before,
                     _synonym_record(group), now)
        snapshot = SynonymGroupSnapshot.of(group)
        uow.commit()
        return snapshot


def delete_synonyms(uow: UnitOfWork, actor: Actor, group_id: int, now: datetime) -> None:
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        group = uow.session.get(SynonymGroup, group_id)
        if group is None:
            raise NotFound("同义词组不存在", code="synonyms_not_found")
        audit.record(uow.session, actor, "synonyms.delete", "synonym_group", group.id, _synonym_record(group),
                     None, now)
        uow.session.delete(group)
        _bump_revision(uow.session)
        uow.commit()


def import_synonyms(uow: UnitOfWork, actor: Actor | None, *, text: str, replace: bool,
                    now: datetime) -> SynonymImportReport:
    """Import groups, one per line (terms separated by / , or tabs; # comments)."""
    if actor is not None:
        require_role(actor, Role.OFFICE_ADMIN)
    try:
        groups = parse_lines(text)
    except SynonymFormatError as exc:
        raise ValidationFailed({"text": str(exc)}, "同义词文件格式错误") from None
    with uow:
        s = uow.session
        if replace:
            for group in s.scalars(select(SynonymGroup)):
                s.delete(group)
            s.flush()
        existing = {tuple(g) for g in s.scalars(select(SynonymGroup.terms))}
        added = 0
        for terms in groups:
            if len(set(terms)) < 2 or tuple(terms) in existing:
                continue
            s.add(SynonymGroup(terms=list(terms), note="import", updated_at=now))
            added += 1
        _bump_revision(s)
        audit.record(s, actor, "synonyms.import", "synonym_group", None, None,
                     {"added": added, "replace": replace}, now)
        uow.commit()
        return SynonymImportReport(added=added, groups=len(groups))
