"""Keeping this host's index true to the database.

The database is the truth. Every change that affects what operators find
writes an outbox row (`kb.search.outbox`) in its own transaction; each host's
index applies rows past the last sequence it applied, after they commit. So a
crash between commit and index write loses nothing (the row is still there),
a rollback leaves nothing (the row was never committed), and a new host needs
no other service: it rebuilds from the database and follows the outbox.

Within one host, several processes share one index folder: one applies at a
time (the backend's writer lock); the others pick up its commit on refresh.
"""
from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from sqlalchemy import select

from kb.models import Category, EntryStatus, KnowledgeEntry, KnowledgeVersion, Unit
from kb.models.search import SearchSettingsRevision, SynonymGroup
from kb.search import outbox
from kb.search.backend import (
    IndexBusy, IndexCorrupt, SearchBackend, SearchDocument, SearchHit, SearchQuery, SearchResult, open_backend)
from kb.search.synonyms import SynonymSet

log = logging.getLogger(__name__)

REBUILD_BATCH = 2000
BUSY_WAIT_SECONDS = 1.0

# Extra display data per entry (e.g. warnings about repealed policy documents):
# (session, entry_ids) -> {entry_id: {key: value}}.
payload_sources: list[Callable[[object, list[int]], dict[int, dict]]] = []


def category_paths(session) -> dict[int, tuple[int, ...]]:
    parents = dict(session.execute(select(Category.id, Category.parent_id)).all())
    paths = {}
    for cid in parents:
        path, current = [], cid
        while current is not None and current not in path:
            path.append(current)
            current = parents.get(current)
        paths[cid] = tuple(reversed(path))
    return paths


def documents_for(session, entry_ids: Iterable[int] | None) -> tuple[list[SearchDocument], set[int]]:
    """Index documents for the given entries (all when None), and the ids to delete.

    Only published, not withdrawn entries are indexed; whether they are in
    effect today is decided at query time from their dates.
    """
    paths = category_paths(session)
    names = dict(session.execute(select(Category.id, Category.name)).all())
    query = (select(KnowledgeEntry, KnowledgeVersion, Unit)
             .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                   & (KnowledgeVersion.number == KnowledgeEntry.published_number))
             .join(Unit, Unit.id == KnowledgeEntry.unit_id)
             .where(KnowledgeEntry.status == EntryStatus.PUBLISHED.value))
    wanted = None
    if entry_ids is not None:
        wanted = set(entry_ids)
        query = query.where(KnowledgeEntry.id.in_(wanted))
    rows = session.execute(query.order_by(KnowledgeEntry.id)).all()
    extra: dict[int, dict] = {}
    ids = [e.id for e, _, _ in rows]
    for source in payload_sources:
        for entry_id, data in source(session, ids).items():
            extra.setdefault(entry_id, {}).update(data)
    docs = []
    for entry, version, unit in rows:
        docs.append(SearchDocument(
            entry_id=entry.id, question=version.question,
            similar_questions=tuple(version.similar_questions or ()), keywords=tuple(version.keywords or ()),
            answer=version.answer, category_path=paths.get(version.category_id, (version.category_id,)),
            unit_code=unit.code, effective_on=version.effective_on, expires_on=version.expires_on,
            payload={
                "version": entry.published_number, "question": version.question, "unit_code": unit.code, "unit_name": unit.name,
                "category_id": version.category_id, "category_name": names.get(version.category_id),
                "updated_at": entry.published_at.isoformat() if entry.published_at else None,
                "verified_at": entry.verified_at.isoformat() if entry.verified_at else None,
                "effective_on": version.effective_on.isoformat(),
                "expires_on": version.expires_on.isoformat() if version.expires_on else None,
                "policy_number": version.policy_number, "policy_title": version.policy_title,
                "urgent": version.urgent, "policy_warning": None, **extra.get(entry.id, {}),
            }))
    deleted = (wanted - {d.entry_id for d in docs}) if wanted is not None else set()
    return docs, deleted


def load_synonyms(session) -> tuple[int, SynonymSet]:
    revision = session.scalar(select(SearchSettingsRevision.revision).where(SearchSettingsRevision.id == 1)) or 0
    groups = [g for g in session.scalars(select(SynonymGroup.terms).order_by(SynonymGroup.id))]
    return revision, SynonymSet.from_groups(groups) if groups else SynonymSet.starter()


class SearchIndex:
    """This process's handle on this host's index, kept in step with the outbox."""

    def __init__(self, uow_factory: Callable[..., object], kind: str, path: Path):
        self._uow_factory = uow_factory
        self.kind = kind
        self.path = Path(path)
        self._backend: SearchBackend | None = None
        self._mutex = threading.RLock()
        self._synonyms_revision = -1
        self.last_repair: str | None = None

    # -- lifecycle -----------------------------------------------------------
    def open(self) -> None:
        """Open the index; repair it if it is missing, corrupt or out of step with the database."""
        with self._mutex:
            try:
                self._backend = open_backend(self.kind, self.path)
                self._backend.check()
            except IndexCorrupt as exc:
                log.warning("search index at %s is corrupt (%s); rebuilding from the database", self.path, exc)
                self._discard()
                self._backend = open_backend(self.kind, self.path)
                self.last_repair = "corrupt"
            with self._uow_factory(write=False) as uow:
                latest = outbox.latest_sequence(uow.session)
                db_entries = uow.session.scalar(
                    select(KnowledgeEntry.id).where(KnowledgeEntry.status == EntryStatus.PUBLISHED.value).limit(1))
            applied = self._backend.applied_sequence()
            if applied > latest or (applied == 0 and (latest or db_entries)) or (
                    db_entries and self._backend.doc_count() == 0):
                # A newer index than the database (restored backup, new database) or an empty one.
                self.last_repair = self.last_repair or ("stale" if applied else "missing")
                self.rebuild()
            self.catch_up()

    def _discard(self) -> None:
        if self._backend is not None:
            try:
                self._backend.close()
            except Exception:  # pragma: no cover - closing a broken index
                pass
        shutil.rmtree(self.path, ignore_errors=True)

    def close(self) -> None:
        with self._mutex:
            if self._backend is not None:
                self._backend.close()
                self._backend = None

    @property
    def backend(self) -> SearchBackend:
        if self._backend is None:
            self.open()
        return self._backend

    # -- keeping in step -----------------------------------------------------
    def rebuild(self) -> int:
        """Rebuild from the database (kb reindex). Returns the number of entries indexed."""
        with self._mutex:
            backend = self.backend if self._backend is not None else open_backend(self.kind, self.path)
            self._backend = backend
            with self._uow_factory(write=False) as uow:
                # Read the sequence first: anything committed later is applied by the next catch-up.
                latest = outbox.latest_sequence(uow.session)
                self._load_synonyms(uow.session)
                docs, _ = documents_for(uow.session, None)
            backend.clear()
            for start in range(0, len(docs), REBUILD_BATCH):
                backend.upsert(docs[start:start + REBUILD_BATCH])
            backend.commit(latest)
            backend.refresh()
            return len(docs)

    def catch_up(self) -> int:
        """Apply committed outbox rows this index has not applied. Cheap when there are none."""
        backend = self.backend
        with self._uow_factory(write=False) as uow:
            latest = outbox.latest_sequence(uow.session)
            self._load_synonyms(uow.session)
            if latest <= backend.applied_sequence():
                return 0
            backend.refresh()  # another process of this host may have applied it already
            applied = backend.applied_sequence()
            if latest <= applied:
                return 0
            with self._mutex:
                entry_ids = outbox.entries_since(uow.session, applied, latest)
                docs, deleted = documents_for(uow.session, entry_ids)
                try:
                    if deleted:
                        backend.delete(deleted)
                    if docs:
                        backend.upsert(docs)
                    backend.commit(latest)
                except IndexBusy:
                    backend.rollback()
                    self._wait_for_other_writer(latest)
                    return 0
                backend.refresh()
                return len(entry_ids)

    def _wait_for_other_writer(self, latest: int) -> None:
        deadline = time.monotonic() + BUSY_WAIT_SECONDS
        while time.monotonic() < deadline:
            self.backend.refresh()
            if self.backend.applied_sequence() >= latest:
                return
            time.sleep(0.02)

    def _load_synonyms(self, session) -> None:
        revision = session.scalar(
            select(SearchSettingsRevision.revision).where(SearchSettingsRevision.id == 1)) or 0
        if revision != self._synonyms_revision:
            self._synonyms_revision, synonyms = load_synonyms(session)
            self.backend.synonyms = synonyms

    # -- reading -------------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResult:
        self.catch_up()
        return self.backend.search(query)

    def suggest(self, prefix: str, today: date, limit: int = 8) -> list[str]:
        self.catch_up()
        return self.backend.suggest(prefix, today, limit)

    def related(self, entry_id: int, today: date, limit: int = 5) -> list[SearchHit]:
        self.catch_up()
        return self.backend.related(entry_id, today, limit)

    def near_duplicates(self, question: str, today: date, *, exclude: int | None = None,
                        threshold: float = 0.6, limit: int = 3) -> list[tuple[int, str]]:
        """Published questions that say nearly the same thing (token overlap), for submission warnings."""
        from kb.search.analyzer import tokenize_query

        mine = set(tokenize_query(question))
        if not mine:
            return []
        found = []
        for hit in self.search(SearchQuery(text=question, today=today, limit=10)).hits:
            other_question = hit.payload.get("question") or ""
            theirs = set(tokenize_query(other_question))
            overlap = len(mine & theirs) / len(mine | theirs) if theirs else 0.0
            if hit.entry_id != exclude and overlap >= threshold:
                found.append((hit.entry_id, other_question))
        return found[:limit]

    def health(self) -> dict:
        self.catch_up()
        backend = self.backend
        return {"backend": self.kind, "documents": backend.doc_count(),
                "applied_sequence": backend.applied_sequence(), "last_repair": self.last_repair}
