"""Hybrid ranking: the lexical index's results fused with the nearest phrasings by meaning.

Method: weighted reciprocal rank fusion (Cormack et al., 2009). Each side
gives a ranked candidate list (lexical: the backend's own search, filters and
in-effect rule included; semantic: the entries whose best phrasing is nearest
the query's vector, then passed through the same filters by the backend's
``hits_for``); an entry scores ``Σ weight / (RRF_K + rank)`` over the lists
it is on. Ranks, not scores, are fused: BM25 scores and cosines are on
unrelated scales, and ranks need no calibration per index.

The weights per query kind (a short typed query; a pasted ticket, where the
lexical side is strong: long texts share many exact terms with the right
entry, while one vector of a 300-character text blurs) were chosen by
cross-validation on the development sets (benchmarks/relevance.py
``--cross-validate``, docs/search.md): the median of the folds' choices, not
the best point on all the queries. Tickets came out lexical only. A semantic candidate under
``MIN_SIMILARITY`` is not added (a query about nothing in the knowledge base
still has nearest neighbours), but can still lift a lexical match.

What stays as it was: ``total`` counts as the backends do (to one past this
page unless ``exact_total``: then every lexical match plus the semantic
candidates added, which facets count too); ``SearchQuery.
semantic=False`` (``mode=lexical`` in the API) gives the lexical index alone.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from kb.search.backend import SearchBackend, SearchQuery, SearchResult
from kb.search.vectors import VectorStore

RRF_K = 60  # the usual constant: rank 1 weighs 1/61, rank 10 1/70, so agreement matters more than rank
CANDIDATES = 50  # from each side (at least the page's end)
MIN_SIMILARITY = 0.5  # cosine under which a semantic candidate is not added by itself (unrelated "where do I do X" questions reach ~0.43)


@dataclass(frozen=True)
class FusionWeights:
    lexical: float
    semantic: float


# Chosen by 5-fold cross-validation on the development sets (docs/search.md). Typed queries: the folds
# (gov paraphrases and AFQMC pooled) chose 1, 3, 3, 2, 2; their median, 2, is shipped (held out: gov
# paraphrase R@1 .889, AFQMC R@5 .131). Tickets: every fold chose 0 (any semantic weight lowered MRR:
# 0.25 → .797 against .879 lexical; one vector of a long description is a blur), so a ticket is not
# encoded at all.
WEIGHTS: Mapping[str, FusionWeights] = {
    "query": FusionWeights(lexical=1.0, semantic=2.0),
    "ticket": FusionWeights(lexical=1.0, semantic=0.0),
}


def fuse(lexical_ids: list[int], semantic_ids: list[int], weights: FusionWeights,
         k: int = RRF_K) -> list[tuple[int, float]]:
    """Entry ids by fused score, best first (ties: the lexical order, then the semantic one)."""
    scores: dict[int, float] = {}
    order: dict[int, int] = {}
    for rank, entry_id in enumerate(lexical_ids, 1):
        scores[entry_id] = scores.get(entry_id, 0.0) + weights.lexical / (k + rank)
        order.setdefault(entry_id, len(order))
    for rank, entry_id in enumerate(semantic_ids, 1):
        scores[entry_id] = scores.get(entry_id, 0.0) + weights.semantic / (k + rank)
        order.setdefault(entry_id, len(order))
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


def hybrid_search(backend: SearchBackend, vectors: VectorStore, encode_query: Callable[[str], np.ndarray],
                  query: SearchQuery, weights: Mapping[str, FusionWeights] = WEIGHTS,
                  min_similarity: float = MIN_SIMILARITY) -> SearchResult:
    text = (query.text or "").strip()
    if not text or query.limit <= 0 or not weights[query.mode].semantic:
        return backend.search(query)
    window = max(CANDIDATES, query.offset + query.limit)
    end = query.offset + query.limit
    # The query is encoded and its nearest phrasings found on another core while the lexical index searches
    # on this one: onnxruntime (the packaged encoder's graph, kb.search.use_graph) and usearch let go of
    # the GIL while they compute.
    semantic = _semantic_threads().submit(lambda: vectors.nearest(encode_query(text), window))
    # Candidates as ids and ranks only: stored fields and highlights are read for the page alone.
    lexical = backend.search(replace(query, offset=0, limit=window, detail=False))
    nearest = semantic.result()
    lexical_ids = [hit.entry_id for hit in lexical.hits]
    found = set(lexical_ids)
    # Semantic candidates the lexical side did not find (entry -> the phrasing that matched) must pass the
    # backend's filters and in-effect rule. They are checked where it matters: all of them when the total is
    # counted exactly or facets are asked for; otherwise only those that reach this page, in the same read as
    # the page's stored fields (one backend read for a usual search, instead of two).
    semantic_only = {entry: phrasing for entry, similarity, phrasing in nearest
                     if entry not in found and similarity >= min_similarity}
    verified: set[int] = set()
    rejected: set[int] = set()
    if query.exact_total or query.facets:
        verified = _passing(backend, semantic_only, query)
        rejected = set(semantic_only) - verified
    semantic_ids = [entry for entry, _, _ in nearest if entry in found or entry in semantic_only]
    while True:
        fused = fuse(lexical_ids, [e for e in semantic_ids if e not in rejected], weights[query.mode])
        before = {e: None for e, _ in fused[:query.offset] if e in semantic_only and e not in verified}
        if before:  # a later page: the unchecked ones ranked above it decide where it starts
            passing = _passing(backend, before, query)
            verified |= passing
            rejected |= set(before) - passing
            if set(before) - passing:
                continue
        page = fused[query.offset:end]
        shown = {hit.entry_id: hit for hit in backend.hits_for(
            {entry: semantic_only.get(entry) for entry, _ in page}, query)}
        failed = {entry for entry, _ in page if entry not in shown and entry in semantic_only}
        verified |= {entry for entry, _ in page if entry in shown and entry in semantic_only}
        if not failed:
            break
        rejected |= failed
    hits = tuple(replace(shown[entry], score=round(score, 6)) for entry, score in page if entry in shown)
    facets = lexical.facets
    if query.exact_total or query.facets:
        if query.facets and verified:
            # facets need the added entries' unit and category: read for them alone
            facets = _with(facets, backend.hits_for({entry: None for entry in verified}, replace(query, facets=False)))
        return SearchResult(total=lexical.total + len(verified), hits=hits, facets=facets, total_exact=True)
    known = len(lexical_ids) + len(verified)
    if known > end or lexical.total > len(lexical_ids):
        # as the backends count: one more than this page reaches, "at least"
        return SearchResult(total=end + 1, hits=hits, facets=facets, total_exact=False)
    unchecked = {e: None for e in semantic_only if e not in verified and e not in rejected}
    verified |= _passing(backend, unchecked, query)
    total = len(lexical_ids) + len(verified)
    if total > end:
        return SearchResult(total=end + 1, hits=hits, facets=facets, total_exact=False)
    return SearchResult(total=total, hits=hits, facets=facets, total_exact=True)


_SEMANTIC: tuple[int, ThreadPoolExecutor] | None = None
_SEMANTIC_LOCK = threading.Lock()


class _InThisThread:
    """Runs the semantic side in the calling thread (a process allowed one core only)."""

    @staticmethod
    def submit(work: Callable[[], list]) -> Future:
        done: Future = Future()
        try:
            done.set_result(work())
        except BaseException as error:  # raised again by result(), as a pool's future would
            done.set_exception(error)
        return done


def _semantic_threads() -> ThreadPoolExecutor | _InThisThread:
    """Where this process runs the semantic side of searches: threads, one per core it may run on (made anew
    in a forked worker: threads do not cross a fork); in the calling thread when that is one core, as for a
    worker `kb serve` pins to a core (service.gunicorn_conf): a second thread there cannot overlap the
    lexical search and only adds thread switches."""
    global _SEMANTIC
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cores <= 1:
        return _InThisThread()
    semantic = _SEMANTIC
    if semantic is None or semantic[0] != os.getpid():
        with _SEMANTIC_LOCK:
            semantic = _SEMANTIC
            if semantic is None or semantic[0] != os.getpid():
                # one thread serves a sync worker; a threaded server's requests get one per core
                semantic = (os.getpid(), ThreadPoolExecutor(max_workers=cores, thread_name_prefix="kb-semantic"))
                _SEMANTIC = semantic
    return semantic[1]


def _passing(backend: SearchBackend, entries: Mapping[int, int | None], query: SearchQuery) -> set[int]:
    """Those of ``entries`` that pass the query's filters and the in-effect rule."""
    if not entries:
        return set()
    return {hit.entry_id for hit in backend.hits_for(entries, replace(query, detail=False, facets=False))}


def _with(facets: Mapping[str, Mapping], hits) -> dict[str, dict]:
    category = dict(facets.get("category", {}))
    unit = dict(facets.get("unit", {}))
    for hit in hits:
        leaf = hit.payload.get("category_id")
        if leaf is not None:
            category[int(leaf)] = category.get(int(leaf), 0) + 1
        code = hit.payload.get("unit_code")
        if code:
            unit[code] = unit.get(code, 0) + 1
    return {"category": category, "unit": unit}
