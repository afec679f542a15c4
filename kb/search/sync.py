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
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb import citations
from kb.calendar import json_value
from kb.db import UowFactory
from kb.models import Category, EntryStatus, KnowledgeEntry, KnowledgeVersion, SearchOutbox, Unit
from kb.models.search import SearchSettingsRevision, SynonymGroup
from kb.search import analyzer, outbox, pipeline
from kb.search.backend import (
    EMPTY_RESULT, IndexBusy, IndexCorrupt, SearchBackend, SearchDocument, SearchHit, SearchQuery, SearchResult)
from kb.search.factory import open_backend
from kb.search.embedding import Embedder, QueryEncoder, encode_in_processes
from kb.search.locking import WriterLock
from kb.search.synonyms import SynonymSet
from kb.search.vectors import VectorStore

log = logging.getLogger(__name__)

REBUILD_BATCH = 2000
BUSY_WAIT_SECONDS = 1.0

# What a hit shows besides its entry's own fields, each (session, entry_ids) -> {entry_id: {key: value}},
# named here in one place: the warning about a cited repealed or amended policy document.
PAYLOAD_SOURCES: tuple[Callable[[Session, list[int]], dict[int, dict]], ...] = (citations.search_payload,)


# The outbox's latest sequence and the synonyms' revision, read together (at most every
# DATABASE_CHECK_SECONDS before a search, and whenever this process changed them).
_DATABASE_STATE = select(
    select(func.coalesce(func.max(SearchOutbox.seq), 0)).scalar_subquery(),
    select(SearchSettingsRevision.revision).where(SearchSettingsRevision.id == 1).scalar_subquery())


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


def _published_rows():
    """Columns of published entries' current versions: no ORM objects (a rebuild reads 100k of them)."""
    return (select(KnowledgeEntry.id, KnowledgeEntry.published_number, KnowledgeEntry.published_at,
                   KnowledgeEntry.verified_at, KnowledgeVersion.question, KnowledgeVersion.similar_questions,
                   KnowledgeVersion.keywords, KnowledgeVersion.answer, KnowledgeVersion.category_id,
                   KnowledgeVersion.effective_on, KnowledgeVersion.expires_on, KnowledgeVersion.policy_number,
                   KnowledgeVersion.policy_title, KnowledgeVersion.urgent, Unit.code, Unit.name)
            .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                  & (KnowledgeVersion.number == KnowledgeEntry.published_number))
            .join(Unit, Unit.id == KnowledgeEntry.unit_id)
            .where(KnowledgeEntry.status == EntryStatus.PUBLISHED.value))


class _Categories:
    """The category tree, read once per batch of documents (or once per rebuild)."""

    def __init__(self, session) -> None:
        self.paths = category_paths(session)
        self.names = dict(session.execute(select(Category.id, Category.name)).all())


def _documents(session, rows, categories: _Categories) -> list[SearchDocument]:
    from kb.search.attachment_text import texts_by_entry

    extra: dict[int, dict] = {}
    ids = [row[0] for row in rows]
    file_texts = texts_by_entry(session, ids)  # basis documents' text: found by what the file says
    for source in PAYLOAD_SOURCES:
        for entry_id, data in source(session, ids).items():
            extra.setdefault(entry_id, {}).update(data)
    # Published modifications waiting for their date of effect: a badge on the live version's hit.
    waiting = {} if not ids else dict(session.execute(
        select(KnowledgeEntry.id, KnowledgeVersion.effective_on)
        .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
              & (KnowledgeVersion.number == KnowledgeEntry.scheduled_number))
        .where(KnowledgeEntry.id.in_(ids))).all())
    docs = []
    for (entry_id, number, published_at, verified_at, question, similar, keywords, answer, category_id,
         effective_on, expires_on, policy_number, policy_title, urgent, unit_code, unit_name) in rows:
        docs.append(SearchDocument(
            entry_id=entry_id, question=question, similar_questions=tuple(similar or ()),
            keywords=tuple(keywords or ()),
            answer=f"{answer}\n{file_texts[entry_id]}" if entry_id in file_texts else answer,
            category_path=categories.paths.get(category_id, (category_id,)),
            unit_code=unit_code, effective_on=effective_on, expires_on=expires_on,
            payload={
                "version": number, "question": question, "unit_code": unit_code, "unit_name": unit_name,
                "category_id": category_id, "category_name": categories.names.get(category_id),
                "updated_at": json_value(published_at) if published_at else None,  # +08:00, as every answer
                "verified_at": json_value(verified_at) if verified_at else None,
                "effective_on": effective_on.isoformat(),
                "expires_on": expires_on.isoformat() if expires_on else None,
                "policy_number": policy_number, "policy_title": policy_title,
                "urgent": urgent, "policy_warning": None,
                "scheduled_update": _scheduled(waiting.get(entry_id)), **extra.get(entry_id, {}),
            }))
    return docs


def _scheduled(effective_on) -> dict | None:
    if effective_on is None:
        return None
    return {"effective_on": effective_on.isoformat(), "label": f"将于 {effective_on.isoformat()} 更新"}


def documents_for(session, entry_ids: Iterable[int] | None) -> tuple[list[SearchDocument], set[int]]:
    """Index documents for the given entries (all when None), and the ids to delete.

    Only published, not withdrawn entries are indexed; whether they are in
    effect today is decided at query time from their dates.
    """
    query = _published_rows()
    wanted = None
    if entry_ids is not None:
        wanted = set(entry_ids)
        query = query.where(KnowledgeEntry.id.in_(wanted))
    docs = _documents(session, session.execute(query.order_by(KnowledgeEntry.id)).all(), _Categories(session))
    deleted = (wanted - {d.entry_id for d in docs}) if wanted is not None else set()
    return docs, deleted


def published_count(session) -> int:
    return session.scalar(select(func.count()).select_from(KnowledgeEntry).where(
        KnowledgeEntry.status == EntryStatus.PUBLISHED.value)) or 0


def all_documents(session, batch: int = REBUILD_BATCH) -> Iterator[SearchDocument]:
    """Every published entry's document, read in batches (a rebuild streams them into analysis)."""
    categories = _Categories(session)
    rows = session.execute(_published_rows().order_by(KnowledgeEntry.id).execution_options(yield_per=batch))
    for chunk in rows.partitions(batch):
        yield from _documents(session, chunk, categories)


def write_documents(backend: SearchBackend, docs: Iterable[SearchDocument], count: int,
                    processes: int | None = None) -> int:
    """Analyse and write about ``count`` documents (uncommitted); many are analysed in worker processes.

    Returns how many were written.

    Analysis (normalize, segmentation, stored JSON) is most of a rebuild's cost
    (~21 s for 100k entries in one process); ``spawn`` workers, not ``fork``,
    because the caller may be a threaded web worker. Documents stream through:
    reading the database, analysing and writing the index overlap.
    """
    written = [0]

    def counted(items: Iterable[SearchDocument]) -> Iterator[SearchDocument]:
        for item in items:
            written[0] += 1
            yield item

    docs = counted(docs)
    processes = processes if processes is not None else (os.cpu_count() or 1)
    if processes <= 1 or count < PARALLEL_ANALYSIS_ENTRIES:
        batch: list[SearchDocument] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= REBUILD_BATCH:
                backend.upsert(batch)
                batch = []
        if batch:
            backend.upsert(batch)
        return written[0]
    import multiprocessing

    from kb.search.pipeline import analyze_document

    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        backend.upsert_analyzed(pool.imap(analyze_document, docs, chunksize=250))
    return written[0]


def load_synonyms(session) -> tuple[int, SynonymSet]:
    revision = session.scalar(select(SearchSettingsRevision.revision).where(SearchSettingsRevision.id == 1)) or 0
    groups = [g for g in session.scalars(select(SynonymGroup.terms).order_by(SynonymGroup.id))]
    return revision, SynonymSet.from_groups(groups) if groups else SynonymSet.starter()


POINTER_NAME = "CURRENT"  # names the generation folder in use
VECTORS_FOLDER = "vectors"  # inside a generation: kb.search.vectors
REBUILD_LOCK_NAME = ".rebuild.lock"
GENERATION_PREFIX = "gen-"
STARTUP_WAIT_SECONDS = 20.0  # waiting for another process's rebuild; below gunicorn's 30 s worker timeout
REBUILD_LOCK_WAIT_SECONDS = 3600.0  # kb reindex waits for a running rebuild, then rebuilds again
BACKGROUND_REBUILD_ENTRIES = 20_000  # a larger startup rebuild runs in a thread, so a worker's boot stays short
PARALLEL_ANALYSIS_ENTRIES = 5_000  # from this many entries a rebuild analyses in worker processes
RETRY_REPAIR_SECONDS = 5.0
NEAR_DUPLICATE_SIMILARITY = 0.9  # of the gov set's closest question pairs, 9 in a sample of 12 at or above it ask the same, 5 of 12 at 0.85–0.9
DATABASE_CHECK_SECONDS = 0.1  # a search reads the outbox sequence at most this often (besides the cases below)


def _shanghai_today() -> date:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


class SearchIndex:
    """This process's handle on this host's index, kept in step with the outbox.

    The index folder holds generations, each a complete index of one backend
    in its own subfolder (``gen-…``), and a pointer file ``CURRENT`` naming the
    one in use. A rebuild writes a fresh generation and then replaces the
    pointer atomically (``os.replace``), so every process keeps searching the
    previous generation until the new one is committed, and never sees a
    half-built or empty index. Only the holder of ``.rebuild.lock`` rebuilds;
    the others serve what the pointer names and follow the pointer when it
    moves (checked before every search: one ``stat``).
    """

    def __init__(self, uow_factory: UowFactory, kind: str, path: Path, *,
                 startup_wait_seconds: float = STARTUP_WAIT_SECONDS,
                 background_rebuild_entries: int = BACKGROUND_REBUILD_ENTRIES,
                 analysis_processes: int | None = None, today: Callable[[], date] | None = None,
                 embedder: Embedder | None = None):
        """``today``: the service's calendar day (Asia/Shanghai), the day a rebuild marks in-effect entries for.
        ``embedder``: with one, each generation also holds its entries' vectors and searches are hybrid
        (``kb.search.hybrid``); without, lexical only."""
        self.embedder = embedder
        self._encode_query = QueryEncoder(embedder) if embedder is not None else None
        self._vectors: VectorStore | None = None
        self._uow_factory = uow_factory
        self._today = today or _shanghai_today
        self.kind = kind
        self.path = Path(path)  # this host's index folder: the pointer and the generations
        self.startup_wait_seconds = startup_wait_seconds
        self.background_rebuild_entries = background_rebuild_entries
        self.analysis_processes = analysis_processes
        self._backend: SearchBackend | None = None
        self._generation: str | None = None
        self._pointer_stamp: tuple[int, int] | None = None
        self._mutex = threading.RLock()
        self._synonyms_revision = -1
        self._opened = False
        self._rebuilding: threading.Thread | None = None
        self._next_repair_at = 0.0
        self._next_database_check = 0.0
        self._seen_local_changes = -1
        self._generation_stamp: tuple | None = None
        self._effect_checked: tuple | None = None  # (folder stamp, day) whose marks were last looked at
        self.last_repair: str | None = None

    # -- generations ---------------------------------------------------------
    @property
    def generation(self) -> str | None:
        """The generation folder this process searches, None before the first build."""
        return self._generation

    def _read_pointer(self) -> tuple[str | None, tuple[int, int] | None]:
        pointer = self.path / POINTER_NAME
        try:
            stat = os.stat(pointer)
            name = pointer.read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None, None
        if not name.startswith(GENERATION_PREFIX) or "/" in name or not (self.path / name).is_dir():
            return None, (stat.st_ino, stat.st_mtime_ns)
        return name, (stat.st_ino, stat.st_mtime_ns)

    def _follow_pointer(self) -> str | None:
        """Open the generation the pointer names if it is not the open one.

        Returns what is wrong when there is nothing usable to open: "missing"
        or "corrupt"; an open generation stays open if the new one is unreadable.
        """
        if self._backend is not None:
            try:
                stat = os.stat(self.path / POINTER_NAME)
                if (stat.st_ino, stat.st_mtime_ns) == self._pointer_stamp:
                    return None  # the common case, before every search: one stat
            except FileNotFoundError:
                return None  # the pointer was removed by hand: keep what is open
        with self._mutex:
            name, stamp = self._read_pointer()
            if name is None:
                return None if self._backend is not None else "missing"
            if name == self._generation and self._backend is not None:
                self._pointer_stamp = stamp
                return None
            try:
                backend = open_backend(self.kind, self.path / name)
                backend.check()
            except IndexCorrupt as exc:
                log.warning("search index generation %s is corrupt (%s)", self.path / name, exc)
                return None if self._backend is not None else "corrupt"
            old, self._backend = self._backend, backend
            self._vectors = self._vectors_of(name)
            self._generation, self._pointer_stamp, self._synonyms_revision = name, stamp, -1
            if old is not None:
                old.close()
            return None

    def _vectors_of(self, generation: str) -> VectorStore | None:
        return VectorStore(self.path / generation / VECTORS_FOLDER) if self.embedder is not None else None

    def _vectors_problem(self) -> str | None:
        """Why the open generation's vectors need a rebuild: none yet, unreadable, or another embedder's."""
        vectors = self._vectors
        if vectors is None:
            return None
        try:
            vectors.check()
        except IndexCorrupt as exc:
            log.warning("search index %s: %s", self._generation, exc)
            return "vectors"
        return "embedder" if vectors.embedder_name() != self.embedder.name else None

    def _problem(self) -> str | None:
        """Why this host's index must be rebuilt, or None when catching up on the outbox is enough."""
        problem = self._follow_pointer()
        if problem:
            return problem
        backend = self._backend
        built = backend.analyzer_version()
        if built is not None and built != analyzer.ANALYZER_VERSION:
            return "analyzer"
        vectors_problem = self._vectors_problem()
        if vectors_problem:
            return vectors_problem
        with self._uow_factory(write=False) as uow:
            latest = outbox.latest_sequence(uow.session)
            db_entries = uow.session.scalar(
                select(KnowledgeEntry.id).where(KnowledgeEntry.status == EntryStatus.PUBLISHED.value).limit(1))
        applied = backend.applied_sequence()
        if applied > latest:
            return "stale"  # newer than the database: a restored backup, another database
        if db_entries and backend.doc_count() == 0:
            return "missing"  # (an index behind the outbox is caught up, not rebuilt)
        return None

    # -- lifecycle -----------------------------------------------------------
    def open(self) -> None:
        """Open this host's index; repair it if it is missing, corrupt or out of step with the database.

        Never fails because another process holds a lock: if another process is
        rebuilding, this one serves the previous generation (or waits up to
        ``startup_wait_seconds`` when there is none) and follows the pointer
        once the rebuild is done.
        """
        with self._mutex:
            self._opened = True
            problem = self._problem()
            if problem:
                self.last_repair = problem
                self._repair(wait_seconds=self.startup_wait_seconds)
        if self._backend is not None:
            self.catch_up()
        if self._encode_query is not None:
            self._encode_query("预热")  # the encoder's weights load now (~3 s), not in an operator's first search

    def _repair(self, wait_seconds: float) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        lock = WriterLock(self.path, 0.0, REBUILD_LOCK_NAME)
        try:
            lock.acquire()
        except IndexBusy:
            if self._backend is not None:
                log.info("another process is rebuilding %s; serving generation %s meanwhile",
                         self.path, self._generation)
                return
            lock = WriterLock(self.path, wait_seconds, REBUILD_LOCK_NAME)
            try:
                lock.acquire()  # the other process finished (or died: then rebuild here)
            except IndexBusy:
                log.warning("another process is still rebuilding %s; no results until it is done", self.path)
                return
        try:
            problem = self._problem()
            if problem is None:  # repaired by another process meanwhile
                log.info("search index at %s: repaired by another process", self.path)
                lock.release()
                return
            # Logged here, under the rebuild lock, so a host's workers starting together say it once.
            log.warning("search index at %s: %s; rebuilding from the database", self.path, problem)
            if self._published_count() > self.background_rebuild_entries:
                self._rebuilding = threading.Thread(target=self._rebuild_then_release, args=(lock,),
                                                    name="search-rebuild", daemon=True)
                self._rebuilding.start()
                return
            self._rebuild_locked()
        except BaseException:
            lock.release()
            raise
        lock.release()

    def _rebuild_then_release(self, lock: WriterLock) -> None:
        try:
            self._rebuild_locked()
        except Exception:
            log.exception("rebuilding the search index at %s failed", self.path)
        finally:
            lock.release()

    def wait_for_rebuild(self, timeout: float | None = None) -> bool:
        """Wait for a rebuild this process runs in the background; True when none is running."""
        thread = self._rebuilding
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _published_count(self) -> int:
        with self._uow_factory(write=False) as uow:
            return published_count(uow.session)

    def close(self) -> None:
        with self._mutex:
            if self._backend is not None:
                self._backend.close()
                self._backend = None
                self._generation = self._pointer_stamp = None

    @property
    def backend(self) -> SearchBackend | None:
        """The open generation's backend; None while this host's first build is still running elsewhere."""
        if self._backend is None:
            self._ensure_open()
        return self._backend

    def _ensure_open(self) -> None:
        if not self._opened:
            self.open()
            return
        if self._follow_pointer() is None:
            return
        # Nothing to search. If nobody is building (the builder died), build here; retry now and then.
        if time.monotonic() >= self._next_repair_at:
            self._next_repair_at = time.monotonic() + RETRY_REPAIR_SECONDS
            with self._mutex:
                if self._backend is None and (self._rebuilding is None or not self._rebuilding.is_alive()):
                    self._repair(wait_seconds=0.0)

    # -- keeping in step -----------------------------------------------------
    def keep_in_step(self) -> None:
        """Before a read: see what this host's other processes committed, and catch up on the outbox
        when this process changed something or ``DATABASE_CHECK_SECONDS`` passed.

        Every process of the host applies the outbox into the same generation folder, and a
        commit there changes the folder (tantivy renames a new meta.json in, whoosh adds a table
        of contents), so one ``stat`` per search shows another process's publish at once and a
        reader reload follows. The database itself (rows nobody on this host applied yet: other
        hosts, the scheduler; synonyms changed elsewhere) is read at most every
        ``DATABASE_CHECK_SECONDS``, and at once after a commit of this process that wrote an
        outbox row or changed synonyms (``outbox.local_changes()``); the publishing worker also
        applies its own outbox rows before it answers (``catch_up``).
        """
        self._follow_pointer()
        backend = self._backend
        if backend is not None and self._generation is not None:
            try:
                stat = os.stat(self.path / self._generation)
                stamp = (self._generation, stat.st_ino, stat.st_mtime_ns)
            except OSError:
                stamp = None
            if stamp != self._generation_stamp:
                self._generation_stamp = stamp
                backend.refresh()
        if (backend is None or outbox.local_changes() != self._seen_local_changes
                or time.monotonic() >= self._next_database_check):
            self.catch_up()

    def rebuild(self) -> int:
        """Rebuild from the database into a new generation and switch to it (kb reindex).

        Waits for a rebuild running in another process first. Searches, here and
        in other processes, use the previous generation until the switch.
        Returns the number of entries indexed.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        lock = WriterLock(self.path, REBUILD_LOCK_WAIT_SECONDS, REBUILD_LOCK_NAME)
        lock.acquire()
        try:
            return self._rebuild_locked()
        finally:
            lock.release()

    def _rebuild_locked(self) -> int:
        """With the rebuild lock held: build a fresh generation, point to it, drop older ones."""
        name = f"{GENERATION_PREFIX}{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}"
        target = self.path / name
        backend = open_backend(self.kind, target)
        try:
            backend.mark_effect_day(self._today(), lambda ids: ([], set()))  # empty: the documents follow
            with self._uow_factory(write=False) as uow:
                # Read the sequence first: anything committed later is applied by the next catch-up.
                latest = outbox.latest_sequence(uow.session)
                revision, synonyms = load_synonyms(uow.session)
                backend.synonyms = synonyms
                phrasings: list[tuple[int, tuple[str, ...]]] = []

                def noting(docs: Iterable[SearchDocument]) -> Iterator[SearchDocument]:
                    for doc in docs:
                        if self.embedder is not None:
                            phrasings.append((doc.entry_id, pipeline.phrasings(doc)))
                        yield doc

                count = write_documents(backend, noting(all_documents(uow.session)), published_count(uow.session),
                                        self.analysis_processes)
            vectors = self._vectors_of(name)
            if vectors is not None:
                processes = self.analysis_processes if self.analysis_processes is not None else os.cpu_count()
                vectors.build(phrasings, lambda texts: encode_in_processes(self.embedder, texts, processes or 1),
                              self.embedder.name, self.embedder.dimensions, latest)
                del phrasings
            backend.commit(latest)
            backend.refresh()
        except BaseException:
            backend.close()
            shutil.rmtree(target, ignore_errors=True)
            raise
        pointed_before = self._read_pointer()[0]
        self._point_to(name)
        with self._mutex:
            old, previous = self._backend, self._generation
            self._backend, self._generation, self._synonyms_revision = backend, name, revision
            self._vectors = vectors
            self._pointer_stamp = self._read_pointer()[1]
            if old is not None:
                old.close()
        self._drop_generations(keep={name, previous, pointed_before})
        return count

    def _point_to(self, name: str) -> None:
        pointer = self.path / POINTER_NAME
        temporary = self.path / f".{POINTER_NAME}.{os.getpid()}.{threading.get_ident()}"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, pointer)
        directory = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def _drop_generations(self, keep: set[str | None]) -> None:
        """Remove generations other than the current and the previous one (still open elsewhere for a moment).

        Only the rebuild lock holder calls this, so no generation is being built meanwhile.
        """
        for child in self.path.iterdir():
            if child.is_dir() and child.name.startswith(GENERATION_PREFIX) and child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)

    def catch_up(self) -> int:
        """Apply committed outbox rows this index has not applied. Cheap when there are none."""
        self._seen_local_changes = outbox.local_changes()  # before reading: a later change forces the next check
        self._next_database_check = time.monotonic() + DATABASE_CHECK_SECONDS
        self._follow_pointer()
        backend = self.backend
        if backend is None:
            return 0
        vectors = self._vectors if self._vectors is not None and self._vectors.exists() else None
        with self._uow_factory(write=False) as uow:
            latest, revision = uow.session.execute(_DATABASE_STATE).one()  # one round trip per search
            if (revision or 0) != self._synonyms_revision:
                self._load_synonyms(uow.session, backend)
            if latest <= self._applied(backend, vectors):
                return 0
            backend.refresh()  # another process of this host may have applied it already
            applied = self._applied(backend, vectors)
            if latest <= applied:
                return 0
            with self._mutex:
                # The lexical index and the vectors each record what they applied; after a crash between
                # their commits, the one behind catches up from its own sequence.
                entry_ids = outbox.entries_since(uow.session, applied, latest)
                docs, deleted = documents_for(uow.session, entry_ids)
                if backend.applied_sequence() < latest:
                    try:
                        if deleted:
                            backend.delete(deleted)
                        if docs:
                            backend.upsert(docs)
                        backend.commit(latest)
                    except IndexBusy:
                        backend.rollback()
                        self._wait_for_other_writer(backend, vectors, latest)
                        return 0
                    backend.refresh()
                if vectors is not None and vectors.applied_sequence() < latest:
                    try:
                        vectors.apply([(d.entry_id, pipeline.phrasings(d)) for d in docs], deleted,
                                      self.embedder.encode, latest, wait_seconds=0.0)
                    except IndexBusy:
                        self._wait_for_other_writer(backend, vectors, latest)
                        return 0
                return len(entry_ids)

    @staticmethod
    def _applied(backend: SearchBackend, vectors: VectorStore | None) -> int:
        """The outbox sequence both the lexical index and the vectors have applied."""
        applied = backend.applied_sequence()
        return min(applied, vectors.applied_sequence()) if vectors is not None else applied

    def _wait_for_other_writer(self, backend: SearchBackend, vectors: VectorStore | None, latest: int) -> None:
        deadline = time.monotonic() + BUSY_WAIT_SECONDS
        while time.monotonic() < deadline:
            backend.refresh()
            if self._applied(backend, vectors) >= latest:
                return
            time.sleep(0.02)

    def _load_synonyms(self, session, backend: SearchBackend) -> None:
        revision = session.scalar(
            select(SearchSettingsRevision.revision).where(SearchSettingsRevision.id == 1)) or 0
        if revision != self._synonyms_revision:
            self._synonyms_revision, synonyms = load_synonyms(session)
            backend.synonyms = synonyms

    def keep_effect_day(self, today: date) -> None:
        """Move the index's in-effect marks to ``today`` if they are for another day (the first search of a
        day, on each host): what expired or started since is rewritten, so queries exclude one term
        instead of two date ranges. Looked at once per commit seen and day; skipped, not waited for, while
        another process writes (queries are exact meanwhile, only slower)."""
        backend = self._backend
        if backend is None or not backend.effect_marks or self._effect_checked == (self._generation_stamp, today):
            return
        self._effect_checked = (self._generation_stamp, today)
        if backend.effect_day() == today:
            return

        def documents(ids: set[int]) -> tuple[list[SearchDocument], set[int]]:
            with self._uow_factory(write=False) as uow:
                return documents_for(uow.session, ids)

        with self._mutex:
            try:
                moved = backend.mark_effect_day(today, documents)
            except IndexBusy:
                return  # another process writes (maybe these marks); its commit brings us back here
            except Exception:  # the database away for a moment: searches stay exact, the next commit retries
                log.warning("search index %s: in-effect marks not moved to %s", self._generation, today,
                            exc_info=True)
                return
            backend.refresh()
            log.info("search index %s: in-effect marks moved to %s (%d entries rewritten)",
                     self._generation, today, moved)

    # -- reading -------------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResult:
        self.keep_in_step()
        self.keep_effect_day(query.today)
        backend = self.backend
        if backend is None:
            return EMPTY_RESULT
        vectors = self._vectors
        if query.semantic and vectors is not None and self._encode_query is not None and vectors.exists():
            from kb.search.hybrid import hybrid_search

            return hybrid_search(backend, vectors, self._encode_query, query)
        return backend.search(query)

    def suggest(self, prefix: str, today: date, limit: int = 8) -> list[str]:
        self.keep_in_step()
        self.keep_effect_day(today)
        backend = self.backend
        return backend.suggest(prefix, today, limit) if backend is not None else []

    def related(self, entry_id: int, today: date, limit: int = 5) -> list[SearchHit]:
        self.keep_in_step()
        self.keep_effect_day(today)
        backend = self.backend
        return backend.related(entry_id, today, limit) if backend is not None else []

    def near_duplicates(self, question: str, today: date, *, exclude: int | None = None,
                        threshold: float = 0.6, limit: int = 3) -> list[tuple[int, str]]:
        """Published questions that say nearly the same thing, for submission warnings: by token overlap,
        and with hybrid search on, by meaning (a phrasing at ``NEAR_DUPLICATE_SIMILARITY`` or closer)."""
        from kb.search.analyzer import tokenize_query

        mine = set(tokenize_query(question))
        if not mine:
            return []
        found = []
        for hit in self.search(SearchQuery(text=question, today=today, limit=10, semantic=False)).hits:
            other_question = hit.payload.get("question") or ""
            theirs = set(tokenize_query(other_question))
            overlap = len(mine & theirs) / len(mine | theirs) if theirs else 0.0
            if hit.entry_id != exclude and overlap >= threshold:
                found.append((hit.entry_id, other_question))
        vectors, backend = self._vectors, self.backend
        if self._encode_query is not None and vectors is not None and vectors.exists() and backend is not None:
            known = {entry_id for entry_id, _ in found}
            close = [(entry, similarity) for entry, similarity, _ in vectors.nearest(self._encode_query(question), 10)
                     if similarity >= NEAR_DUPLICATE_SIMILARITY and entry != exclude and entry not in known]
            # in effect and published, as a search would show them; nearest first
            shown = {hit.entry_id: hit for hit in backend.hits_for(
                {entry: None for entry, _ in close}, SearchQuery(text=question, today=today, limit=10))}
            found += [(entry, shown[entry].payload.get("question") or "") for entry, _ in close if entry in shown]
        return found[:limit]

    def health(self) -> dict:
        self.catch_up()
        backend = self.backend
        rebuilding = self._rebuilding is not None and self._rebuilding.is_alive()
        vectors = self._vectors if self._vectors is not None and self._vectors.exists() else None
        return {"backend": self.kind, "generation": self._generation,
                "embedder": self.embedder.name if self.embedder is not None else None,
                "vectors": vectors.size() if vectors is not None else 0,
                "documents": backend.doc_count() if backend is not None else 0,
                "applied_sequence": backend.applied_sequence() if backend is not None else 0,
                "last_repair": self.last_repair, "rebuilding": rebuilding}
