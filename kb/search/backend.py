"""The search index seen from the rest of kb: plain data types and one small interface.

Two implementations live next to this module, both on disk and both held to
the same contract tests: ``tantivy`` (the default: milliseconds at 100k
entries) and ``whoosh`` (pure Python, for small installations and as a
fallback). Chinese analysis happens once, in ``kb.search.analyzer``; the
engines index whitespace-joined tokens and never parse user text.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol, runtime_checkable

BACKEND_KINDS = ("tantivy", "whoosh")
DEFAULT_BACKEND = "tantivy"


class SearchIndexError(Exception):
    """Base of the errors raised by a search backend."""


class IndexCorrupt(SearchIndexError):
    """The index at a path cannot be opened or read; rebuild it from the database."""


class IndexBusy(SearchIndexError):
    """Another writer holds the index's writer lock."""


@dataclass(frozen=True)
class SearchDocument:
    """A published knowledge entry as the index sees it."""

    entry_id: int
    question: str
    similar_questions: tuple[str, ...]
    keywords: tuple[str, ...]
    answer: str
    category_path: tuple[int, ...]  # category ids from the root to the entry's category
    unit_code: str
    effective_on: date
    expires_on: date | None
    payload: Mapping[str, Any] = field(default_factory=dict)  # JSON-able display data, stored, not searched


@dataclass(frozen=True)
class SearchQuery:
    text: str
    today: date
    category_id: int | None = None  # the category or any category below it
    unit_codes: tuple[str, ...] = ()
    offset: int = 0
    limit: int = 10
    mode: Literal["query", "ticket"] = "query"  # ticket: a citizen's long description
    semantic: bool = True  # hybrid ranking where this host has vectors; False: the lexical index alone
    detail: bool = True  # False: hits carry entry id and score only (no payload, no highlights): fusion candidates
    facets: bool = False
    # Count every match (as Elasticsearch's track_total_hits=true). Otherwise the total is exact only up
    # to the end of this page, and past it a lower bound (SearchResult.total_exact False): the engine then
    # skips blocks that cannot reach the page (block-max WAND), ~0.4 ms of a search at 100k entries.
    exact_total: bool = False


@dataclass(frozen=True)
class SearchHit:
    entry_id: int
    score: float
    payload: Mapping[str, Any]
    highlights: Mapping[str, str]  # field -> HTML-escaped snippet with <em>…</em>


@dataclass(frozen=True)
class SearchResult:
    total: int  # every match when total_exact, else at least this many (one more than this page reaches)
    hits: tuple[SearchHit, ...]
    facets: Mapping[str, Mapping[Any, int]] = field(default_factory=dict)  # {"category": {id: n}, "unit": {code: n}}
    total_exact: bool = True


@dataclass(frozen=True)
class AnalyzedDocument:
    """A SearchDocument after analysis: what a backend writes, and nothing more to compute."""

    entry_id: int
    fields: Mapping[str, str]  # text field -> whitespace-joined tokens
    categories: tuple[int, ...]  # every id of the category path (subtree filter)
    category_leaf: int  # the entry's own category (facet); -1 when it has none
    unit_code: str
    effective_on: int  # day_number
    expires_on: int  # day_number, FAR_FUTURE when open-ended
    suggestions: tuple[str, ...]  # "normalized\x1fdisplay" of the question and similar questions
    stored: str  # JSON: display data, highlight sources


EMPTY_RESULT = SearchResult(total=0, hits=(), facets={})


@runtime_checkable
class SearchBackend(Protocol):
    """An on-disk index of published entries, in effect or not (the in-effect rule applies at query time).

    Writes are buffered until ``commit``, which makes them durable and
    visible to this instance and records the last outbox sequence applied.
    One writer at a time across processes (``IndexBusy`` otherwise); readers
    never block and see other processes' commits after ``refresh``.
    """

    kind: str
    effect_marks: bool  # keeps in-effect marks for a day (``mark_effect_day``); otherwise decides from dates

    def upsert(self, docs: Iterable[SearchDocument]) -> None: ...

    def upsert_analyzed(self, docs: Iterable[AnalyzedDocument]) -> None:
        """Like ``upsert`` for documents already analysed (``pipeline.analyze_document``), e.g. in worker processes."""
        ...

    def delete(self, entry_ids: Iterable[int]) -> None: ...

    def commit(self, applied_sequence: int) -> None:
        """Make changes durable and visible; record the last outbox sequence applied."""
        ...

    def rollback(self) -> None:
        """Drop uncommitted changes and release the writer lock."""
        ...

    def applied_sequence(self) -> int:
        """The sequence recorded by the last commit; 0 for a new index."""
        ...

    def analyzer_version(self) -> int | None:
        """The ``ANALYZER_VERSION`` the indexed documents were analysed with; None for a new index.

        Set when an empty index gets its first commit (or by ``clear``), kept by
        later commits: a difference from the running analyzer means rebuild.
        """
        ...

    def refresh(self) -> None:
        """Pick up commits made by other processes."""
        ...

    def effect_day(self) -> date | None:
        """The day this index's in-effect marks hold for, or None (the rule then comes from the dates alone).

        Marks only make queries for that day cheaper; results are the same for any day.
        """
        ...

    def mark_effect_day(self, day: date, documents: Callable[[set[int]], tuple[list[SearchDocument], set[int]]],
                        wait_seconds: float = 0.0) -> int:
        """Move the in-effect marks to ``day`` (committed), rewriting the documents ``documents(ids)``
        gives for the entries whose state differs; returns how many. ``IndexBusy`` if another writer
        holds the index longer than ``wait_seconds``. A backend without marks does nothing (0)."""
        ...

    def search(self, query: SearchQuery) -> SearchResult: ...

    def hits_for(self, phrasings: Mapping[int, int | None], query: SearchQuery) -> list[SearchHit]:
        """Hits (score 0, any order) for the entries ``phrasings`` names that pass ``query``'s filters and the
        in-effect rule: the semantic candidates of hybrid search, and its page. Highlights add
        ``matched_question``, the phrasing (0 the question, then the similar questions) an entry's
        mapping names (None: none). ``query.detail`` False: ids only, as in ``search``."""
        ...

    def suggest(self, prefix: str, today: date, limit: int = 8) -> list[str]:
        """Type-ahead: questions and similar phrasings of in-effect entries."""
        ...

    def related(self, entry_id: int, today: date, limit: int = 5) -> list[SearchHit]:
        """In-effect entries like this one, the entry itself excluded."""
        ...

    def doc_count(self) -> int:
        """Committed entries, in effect or not."""
        ...

    def clear(self) -> None:
        """Remove every entry and reset the applied sequence to 0 (committed at once)."""
        ...

    def check(self) -> None:
        """Raise ``IndexCorrupt`` if the index cannot be opened or read."""
        ...

    def close(self) -> None:
        """Roll back uncommitted changes and release files."""
        ...
