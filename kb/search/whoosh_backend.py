"""The pure-Python backend: Whoosh 2.7, tuned as far as it goes.

Same documents, same weighted query, same contract as the tantivy backend;
see ``pipeline`` for the ranking and ``tantivy_backend`` for the field list.
What is done to make Whoosh usable:

* text fields keep term frequencies only (``phrase=False``): no positions;
* the in-effect rule becomes a cached mask of the few entries out of effect,
  and category and unit filters a cached set of allowed documents, per
  (index generation, day, category, units), so a query pays for its text
  terms only;
* one searcher per thread, kept open and refreshed only on ``refresh()`` or
  after this instance's own commit;
* the OR of term clauses uses whoosh's array union matcher, and scoring runs
  without block-quality skipping so the total comes out of the same pass
  (at 10k entries: p50 51 → 21 ms, p95 162 → 52 ms);
* the applied outbox sequence is a "meta" document written by the same
  commit as the changes, like in tantivy, so both move together.

Whoosh cannot delete a document added earlier in the same writer; the writer
keeps the segment-local number of each entry it added and marks the earlier
copy deleted in the new segment when an entry changes twice in one batch.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from whoosh import fields, index, sorting
from whoosh.analysis import RegexTokenizer, SpaceSeparatedTokenizer
from whoosh.index import LockError
from whoosh.query import And, AndMaybe, NumericRange, Or, Prefix, Query, Term

from kb.search import analyzer, pipeline
from kb.search.backend import (
    EMPTY_RESULT,
    IndexBusy,
    IndexCorrupt,
    SearchDocument,
    SearchHit,
    SearchQuery,
    SearchResult,
)
from kb.search.locking import DEFAULT_WAIT_SECONDS, WriterLock
from kb.search.pipeline import AnalyzedDocument, Filters, WeightedQuery
from kb.search.synonyms import SynonymSet

INDEX_NAME = "KB"
_META_ID = "meta"
_SUGGEST_SEPARATOR = "\x1e"
_MAX_LIMIT = 1000
_SUGGEST_SCAN = 200
_FILTER_CACHE_SIZE = 64


def _schema() -> fields.Schema:
    tokens = SpaceSeparatedTokenizer()
    text = {name: fields.TEXT(analyzer=tokens, phrase=False) for name in pipeline.TEXT_FIELDS}
    return fields.Schema(
        kind=fields.ID(),
        entry_id=fields.ID(stored=True, unique=True),
        category=fields.KEYWORD(),
        category_leaf=fields.ID(sortable=True),
        unit=fields.ID(sortable=True),
        # signed: whoosh 2.7 range queries over unsigned NUMERIC fields match every value
        effective_on=fields.NUMERIC(int, bits=32),
        expires_on=fields.NUMERIC(int, bits=32),
        suggest=fields.TEXT(analyzer=RegexTokenizer(r"[^\x1e]+"), phrase=False),
        data=fields.STORED(),
        **text,
    )


class WhooshBackend:
    kind = "whoosh"
    effect_marks = False  # the in-effect rule is a mask cached per reader and day instead

    def __init__(
        self,
        path: Path,
        synonyms: SynonymSet,
        lock_wait_seconds: float = DEFAULT_WAIT_SECONDS,
        writer_limit_mb: int = 512,
        bulk_procs: int = 1,
    ) -> None:
        """``bulk_procs`` > 1: a writer opened on an empty index uses that many
        processes, one segment each (whoosh ``multisegment``), for rebuilds;
        each entry may then appear only once per commit."""
        self.path = Path(path)
        self.synonyms = synonyms
        self._limit_mb = writer_limit_mb
        self._bulk_procs = bulk_procs
        self._bulk = False
        self._lock = WriterLock(self.path, lock_wait_seconds)
        self._write_mutex = threading.RLock()
        self._writer: Any = None
        self._added: dict[str, int] = {}  # entry id -> segment-local docnum, this writer only
        self._local = threading.local()
        self._epoch = 0
        self._filter_cache: OrderedDict[tuple, Any] = OrderedDict()
        self._filter_mutex = threading.Lock()
        self.path.mkdir(parents=True, exist_ok=True)
        self._index = self._open_or_create()

    # -- opening -------------------------------------------------------------
    def _exists(self) -> bool:
        return any(self.path.glob(f"_{INDEX_NAME}_*.toc"))

    def _open_or_create(self) -> index.Index:
        if not self._exists():
            self._lock.acquire()
            try:
                if not self._exists():
                    return index.create_in(str(self.path), _schema(), indexname=INDEX_NAME)
            finally:
                self._lock.release()
        return self._open_existing()

    def _open_existing(self) -> index.Index:
        try:
            opened = index.open_dir(str(self.path), indexname=INDEX_NAME)
            if set(opened.schema.names()) != set(_schema().names()):
                raise IndexCorrupt(f"the index at {self.path} has another schema; rebuild it")
            return opened
        except IndexCorrupt:
            raise
        except Exception as exc:  # whoosh raises anything from EOFError to pickle errors
            raise IndexCorrupt(f"cannot open the whoosh index at {self.path}: {exc}") from exc

    def _searcher(self):
        local = self._local
        searcher = getattr(local, "searcher", None)
        if searcher is None:
            searcher = self._index.searcher()
        elif getattr(local, "epoch", None) != self._epoch:
            searcher = searcher.refresh()
        local.searcher, local.epoch = searcher, self._epoch
        return searcher

    # -- writing -------------------------------------------------------------
    def _ensure_writer(self) -> Any:
        if self._writer is None:
            self._lock.acquire()
            try:
                self._bulk = self._bulk_procs > 1 and self._index.doc_count_all() == 0
                options: dict[str, Any] = {"limitmb": self._limit_mb, "timeout": self._lock.wait_seconds}
                if self._bulk:
                    options.update(procs=self._bulk_procs, multisegment=True)
                self._writer = self._index.writer(**options)
                self._added = {}
            except LockError as exc:  # whoosh's own lock, held by a writer outside kb
                self._lock.release()
                raise IndexBusy(f"the whoosh index at {self.path} has another writer") from exc
            except BaseException:
                self._lock.release()
                raise
        return self._writer

    def _forget_added(self, writer: Any, key: str) -> None:
        docnum = self._added.pop(key, None)
        if docnum is None:
            return
        if self._bulk:
            raise ValueError(f"entry {key} changes twice in one bulk load; commit in between")
        writer.newsegment.delete_document(docnum)

    def upsert(self, docs: Iterable[SearchDocument]) -> None:
        self.upsert_analyzed(pipeline.analyze_document(d) for d in docs)

    def upsert_analyzed(self, docs: Iterable[AnalyzedDocument]) -> None:
        with self._write_mutex:
            writer = self._ensure_writer()
            for doc in docs:
                key = str(doc.entry_id)
                writer.delete_by_term("entry_id", key)
                self._forget_added(writer, key)
                self._added[key] = -1 if self._bulk else writer.docnum
                writer.add_document(**self._fields(doc))

    @staticmethod
    def _fields(doc: AnalyzedDocument) -> dict[str, Any]:
        values: dict[str, Any] = {
            "kind": "entry",
            "entry_id": str(doc.entry_id),
            "category": " ".join(str(c) for c in doc.categories),
            "category_leaf": str(doc.category_leaf),
            "unit": doc.unit_code,
            "effective_on": doc.effective_on,
            "expires_on": doc.expires_on,
            "suggest": _SUGGEST_SEPARATOR.join(doc.suggestions),
            "data": doc.stored,
        }
        for name in pipeline.TEXT_FIELDS:
            if doc.fields.get(name):
                values[name] = doc.fields[name]
        return values

    def delete(self, entry_ids: Iterable[int]) -> None:
        with self._write_mutex:
            writer = self._ensure_writer()
            for entry_id in entry_ids:
                key = str(int(entry_id))
                writer.delete_by_term("entry_id", key)
                self._forget_added(writer, key)

    def commit(self, applied_sequence: int) -> None:
        with self._write_mutex:
            writer = self._ensure_writer()
            try:
                writer.delete_by_term("entry_id", _META_ID)
                self.refresh()  # read the meta document as last committed, by anyone
                built = self.analyzer_version()
                writer.add_document(
                    kind="meta",
                    entry_id=_META_ID,
                    data=json.dumps({
                        "applied_sequence": int(applied_sequence),
                        "analyzer_version": analyzer.ANALYZER_VERSION if built is None else built,
                    }),
                )
                writer.commit()
            except BaseException:
                self._rollback_locked()
                raise
            self._writer = None
            self._added = {}
            self._lock.release()
            self.refresh()

    def rollback(self) -> None:
        with self._write_mutex:
            self._rollback_locked()

    def _rollback_locked(self) -> None:
        writer, self._writer = self._writer, None
        self._added = {}
        if writer is None:
            return
        try:
            if not writer.is_closed:
                writer.cancel()
        finally:
            self._lock.release()

    def clear(self) -> None:
        with self._write_mutex:
            self.rollback()
            self._lock.acquire()
            try:
                self._index = index.create_in(str(self.path), _schema(), indexname=INDEX_NAME)
            finally:
                self._lock.release()
            self.refresh()
            self.commit(0)

    def close(self) -> None:
        self.rollback()
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
            self._local.searcher = None

    # -- reading -------------------------------------------------------------
    def refresh(self) -> None:
        self._epoch += 1

    def applied_sequence(self) -> int:
        meta = self._meta(self._searcher())
        return int(meta.get("applied_sequence", 0)) if meta else 0

    @staticmethod
    def _meta(searcher) -> dict[str, Any] | None:
        docnum = searcher.document_number(entry_id=_META_ID)
        if docnum is None:
            return None
        return json.loads(searcher.stored_fields(docnum)["data"])

    def effect_day(self) -> date | None:
        return None  # the in-effect rule is a mask cached per reader and day: no marks to move

    def mark_effect_day(self, day: date, documents, wait_seconds: float = 0.0) -> int:
        return 0

    def analyzer_version(self) -> int | None:
        meta = self._meta(self._searcher())
        return int(meta["analyzer_version"]) if meta and "analyzer_version" in meta else None

    def doc_count(self) -> int:
        searcher = self._searcher()
        has_meta = searcher.document_number(entry_id=_META_ID) is not None
        return searcher.doc_count() - (1 if has_meta else 0)

    def search(self, query: SearchQuery) -> SearchResult:
        weighted = pipeline.build_query(query, self.synonyms)
        if weighted is None:
            return EMPTY_RESULT
        searcher = self._searcher()
        limit = max(1, min(query.limit, _MAX_LIMIT))
        offset = max(0, query.offset)
        options: dict[str, Any] = {}
        if query.facets:
            options["groupedby"] = {
                "category": sorting.FieldFacet("category_leaf"),
                "unit": sorting.FieldFacet("unit"),
            }
            options["maptype"] = sorting.Count
        # optimize=False: no block-quality skipping, so the collector counts
        # every match in one pass (with skipping, len() runs the query again).
        ticket = query.mode == "ticket"
        window = max(pipeline.TICKET_RESCORE_DEPTH, offset + limit) if ticket else offset + limit
        results = self._restricted(
            searcher, self._text_query(weighted, searcher), pipeline.filters_for(query),
            limit=window, optimize=False, **options,
        )
        if results is None:
            return EMPTY_RESULT
        total = len(results)
        if ticket:
            hits = self._ticket_page(query, list(results[:window]), weighted, offset, limit)
        else:
            page = [hit for hit in results[offset : offset + limit]] if query.limit > 0 else []
            hits = self._hits(page, weighted) if query.detail else self._bare_hits(page)
        facets: dict[str, dict[Any, int]] = {}
        if query.facets:
            facets = {
                "category": {
                    int(k): int(v) for k, v in results.groups("category").items() if k is not None and int(k) >= 0
                },
                "unit": {str(k): int(v) for k, v in results.groups("unit").items() if k is not None},
            }
        return SearchResult(total=total, hits=tuple(hits), facets=facets)

    @staticmethod
    def _ticket_page(query: SearchQuery, candidates: list, weighted: WeightedQuery, offset: int,
                     limit: int) -> list[SearchHit]:
        """A ticket's page: BM25's first candidates re-scored by how much of their question the ticket
        contains (pipeline.rescore_ticket)."""
        scores = [float(hit.score or 0.0) for hit in candidates]
        stored = [pipeline.load_stored(hit["data"]) for hit in candidates[:pipeline.leading_candidates(scores)]]
        rescored = pipeline.rescore_ticket(query.text, scores, stored)
        highlighter = pipeline.Highlighter(weighted.terms) if query.detail else None
        hits = []
        for i, score in rescored[offset : offset + limit] if query.limit > 0 else ():
            entry_id = int(candidates[i]["entry_id"])
            if highlighter is None:
                hits.append(SearchHit(entry_id, score, {}, {}))
                continue
            fields = stored[i] if i < len(stored) else pipeline.load_stored(candidates[i]["data"])
            hits.append(SearchHit(entry_id, score, fields.get("payload", {}), highlighter.highlights(fields)))
        return hits

    @staticmethod
    def _hits(page, weighted: WeightedQuery) -> list[SearchHit]:
        highlighter = pipeline.Highlighter(weighted.terms)
        hits = []
        for hit in page:
            stored = pipeline.load_stored(hit["data"])
            hits.append(
                SearchHit(
                    entry_id=int(hit["entry_id"]),
                    score=float(hit.score or 0.0),
                    payload=stored.get("payload", {}),
                    highlights=highlighter.highlights(stored),
                )
            )
        return hits

    @staticmethod
    def _bare_hits(page) -> list[SearchHit]:
        return [SearchHit(int(hit["entry_id"]), float(hit.score or 0.0), {}, {}) for hit in page]

    def hits_for(self, phrasings: Mapping[int, int | None], query: SearchQuery) -> list[SearchHit]:
        """Hits for the entries ``phrasings`` names that pass the query's filters (see ``SearchBackend``)."""
        if not phrasings:
            return []
        searcher = self._searcher()
        wanted = Or([Term("entry_id", str(int(e))) for e in phrasings])
        results = self._restricted(searcher, wanted, pipeline.filters_for(query), limit=len(phrasings),
                                   scored=False)
        if not query.detail:
            return self._bare_hits(results or ())
        highlighter = pipeline.Highlighter(pipeline.query_terms(query, self.synonyms))
        hits = []
        for hit in results or ():
            stored = pipeline.load_stored(hit["data"])
            entry_id = int(hit["entry_id"])
            hits.append(SearchHit(entry_id=entry_id, score=0.0, payload=stored.get("payload", {}),
                                  highlights=highlighter.highlights(stored, phrasings[entry_id])))
        return hits

    def suggest(self, prefix: str, today: date, limit: int = 8) -> list[str]:
        normalized = analyzer.normalize(prefix or "").strip()
        if not normalized or limit <= 0:
            return []
        searcher = self._searcher()
        filters = Filters(today=pipeline.day_number(today))
        terms: list[str] = []
        starting = self._restricted(searcher, Prefix("suggest", normalized), filters, limit=_SUGGEST_SCAN, scored=False)
        for hit in starting or ():
            stored = pipeline.load_stored(hit["data"])
            for phrase in (stored.get("question", ""), *stored.get("similar_questions", ())):
                display = " ".join(phrase.split())
                folded = analyzer.normalize(display).strip()
                if folded.startswith(normalized):
                    terms.append(f"{folded}{pipeline.SUGGEST_SEPARATOR}{display}")
        suggestions = pipeline.rank_prefix_suggestions(terms, limit)
        if len(suggestions) < limit:
            wanted = pipeline.suggestion_query(prefix, self.synonyms)
            if wanted is not None:
                for hit in self._restricted(searcher, self._text_query(wanted, searcher), filters, limit=limit * 2) or ():
                    for phrase in pipeline.suggestions_from_hit(pipeline.load_stored(hit["data"]), wanted):
                        if phrase not in suggestions:
                            suggestions.append(phrase)
                    if len(suggestions) >= limit:
                        break
        return suggestions[:limit]

    def related(self, entry_id: int, today: date, limit: int = 5) -> list[SearchHit]:
        if limit <= 0:
            return []
        searcher = self._searcher()
        docnum = searcher.document_number(entry_id=str(int(entry_id)))
        if docnum is None:
            return []
        weighted = pipeline.related_query(pipeline.load_stored(searcher.stored_fields(docnum)["data"]), self.synonyms)
        if weighted is None:
            return []
        filters = Filters(today=pipeline.day_number(today), exclude_entry_id=int(entry_id))
        results = self._restricted(searcher, self._text_query(weighted, searcher), filters, limit=limit)
        return self._hits(list(results or ()), weighted)

    # -- query translation ---------------------------------------------------
    @staticmethod
    def _term(field: str, alternative: str, boost: float) -> Query:
        tokens = alternative.split()
        if len(tokens) == 1:
            return Term(field, tokens[0], boost=boost)
        return And([Term(field, t, boost=boost) for t in tokens])

    def _text_query(self, weighted: WeightedQuery, searcher) -> Query:
        """Matching clauses OR-ed; common terms and question words only add to their scores
        (``WeightedQuery.scoring_clauses``)."""
        rare, common = weighted.scoring_clauses(
            lambda field, text: searcher.doc_frequency(field, text), searcher.doc_count_all())
        clauses: list[Query] = [self._term(f, alt, w) for f, alt, w in rare]
        for field, words in weighted.together_clauses():
            clauses.append(And([self._term(field, word, w) for word, w in words]))
        union = Or(clauses)
        # Preload each clause's postings into one score array instead of a
        # binary tree of union matchers: 2-3× faster for OR queries in Python.
        union.matcher_type = Or.ARRAY_MATCHER
        if not common:
            return union
        optional = Or([self._term(f, alt, w) for f, alt, w in common])
        optional.matcher_type = Or.ARRAY_MATCHER
        return AndMaybe(union, optional)

    def _restrictions(self, searcher, filters: Filters) -> tuple[set[int] | None, set[int]]:
        """(allowed, masked) document numbers for ``filter=`` and ``mask=``, cached per reader.

        The in-effect rule is a mask of the few entries out of effect
        (effective after today, expired before today), so a new index
        generation costs two small range lookups rather than a pass over
        every document. ``allowed`` is None when neither category nor unit
        restricts the search.
        """
        key = (id(searcher.reader()), searcher.reader().generation(), filters)
        with self._filter_mutex:
            cached = self._filter_cache.get(key)
            if cached is not None:
                self._filter_cache.move_to_end(key)
                return cached
        masked = set(searcher.docs_for_query(Or([
            NumericRange("effective_on", filters.today + 1, None),
            NumericRange("expires_on", None, filters.today - 1),
        ])))
        if filters.exclude_entry_id is not None:
            excluded = searcher.document_number(entry_id=str(filters.exclude_entry_id))
            if excluded is not None:
                masked.add(excluded)
        allowed: set[int] | None = None
        if filters.category_id is not None:
            allowed = set(searcher.docs_for_query(Term("category", str(int(filters.category_id)))))
        if filters.unit_codes:
            units = set(searcher.docs_for_query(Or([Term("unit", code) for code in filters.unit_codes])))
            allowed = units if allowed is None else allowed & units
        result = (allowed, masked)
        with self._filter_mutex:
            self._filter_cache[key] = result
            while len(self._filter_cache) > _FILTER_CACHE_SIZE:
                self._filter_cache.popitem(last=False)
        return result

    def _restricted(self, searcher, query: Query, filters: Filters, **options: Any):
        """Run ``query`` under the filters; None when the filters leave nothing.

        (Whoosh reads an empty ``filter`` set as no filter at all.)
        """
        allowed, masked = self._restrictions(searcher, filters)
        if allowed is not None and not allowed:
            return None
        return searcher.search(query, filter=allowed, mask=masked or None, **options)

    # -- integrity -----------------------------------------------------------
    def check(self) -> None:
        try:
            opened = self._open_existing()
            with opened.searcher() as searcher:
                reader = searcher.reader()
                for name in (*pipeline.TEXT_FIELDS, "kind", "entry_id", "category", "unit", "suggest"):
                    for _ in reader.lexicon(name):
                        pass
                for stored in reader.all_stored_fields():
                    json.loads(stored["data"])
                self._meta(searcher)
                searcher.search(Term("kind", "entry"), limit=10)
        except IndexCorrupt:
            raise
        except Exception as exc:
            raise IndexCorrupt(f"the whoosh index at {self.path} cannot be read: {exc}") from exc
