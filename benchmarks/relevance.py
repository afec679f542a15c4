"""Relevance of knowledge search on the development query sets (index level).

Loads a question/answer corpus into a fresh index through ``SearchBackend``
and measures recall@1/5/10 and MRR per query kind, for our pipeline (rjieba
search-mode analysis, stopwords, synonyms, field boosts, ticket mode for long
descriptions) against a plain baseline (BM25 over jieba precise-mode tokens
of question ×2 and answer, no stopwords, no synonyms, no ticket mode).

The data lives outside the repository (see ``default_data_dir``); it is read,
never copied. ``load_corpus`` is the seam where a later version loads entries
through the knowledge-base service layer instead of files, and
``evaluate(backend, queries)`` works on any ``SearchBackend``.

    python -m benchmarks.relevance                  # gov and afqmc, tantivy
    python -m benchmarks.relevance --dataset gov --backend whoosh
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kb.search.backend import SearchBackend, SearchDocument, SearchQuery
from kb.search.factory import open_backend
from kb.search.synonyms import SynonymSet

REPO_ROOT = Path(__file__).resolve().parents[1]
EVAL_DAY = date(2024, 1, 1)
CORPUS_START = date(2000, 1, 1)
DATASETS = {
    "gov": ("gov_qa_kb.jsonl", "gov_dev_queries.jsonl"),
    "afqmc": ("afqmc_kb.jsonl", "afqmc_dev_queries.jsonl"),
}
# Kinds whose queries are a citizen's long description, searched in ticket mode.
TICKET_KINDS = frozenset({"detail_to_title"})


def default_data_dir() -> Path:
    """``KB_DEV_DATA_DIR`` or ``../shared/data`` beside the repository."""
    override = os.environ.get("KB_DEV_DATA_DIR")
    if override:
        return Path(override)
    return (REPO_ROOT / ".." / "shared" / "data").resolve()


@dataclass(frozen=True)
class EvalQuery:
    text: str
    relevant: frozenset[int]
    kind: str


@dataclass(frozen=True)
class Metrics:
    queries: int
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr: float

    def row(self) -> str:
        return (f"{self.queries} | {self.recall_at_1:.3f} | {self.recall_at_5:.3f} | "
                f"{self.recall_at_10:.3f} | {self.mrr:.3f}")


@dataclass
class Corpus:
    documents: list[SearchDocument]
    ids: dict[str, int]  # source id -> entry_id


def _read_jsonl(path: Path) -> Iterable[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def load_corpus(data_dir: Path, dataset: str = "gov") -> Corpus:
    """The knowledge base of ``dataset`` as SearchDocuments (question and answer only, never ``detail``)."""
    kb_file, _ = DATASETS[dataset]
    documents: list[SearchDocument] = []
    ids: dict[str, int] = {}
    for number, row in enumerate(_read_jsonl(data_dir / kb_file), start=1):
        ids[row["id"]] = number
        documents.append(
            SearchDocument(
                entry_id=number,
                question=row.get("question") or "",
                similar_questions=(),
                keywords=(),
                answer=row.get("answer") or "",
                category_path=(),
                unit_code=row.get("source") or "",
                effective_on=CORPUS_START,
                expires_on=None,
                payload={"id": row["id"]},
            )
        )
    return Corpus(documents, ids)


def load_queries(
    data_dir: Path, corpus: Corpus, dataset: str = "gov", per_kind: int | None = None
) -> list[EvalQuery]:
    """Development queries in file order, at most ``per_kind`` of each kind."""
    _, query_file = DATASETS[dataset]
    taken: dict[str, int] = defaultdict(int)
    queries = []
    for row in _read_jsonl(data_dir / query_file):
        kind = row.get("kind") or dataset
        if per_kind is not None and taken[kind] >= per_kind:
            continue
        relevant = frozenset(corpus.ids[r] for r in row["relevant_ids"] if r in corpus.ids)
        if not relevant:
            continue
        taken[kind] += 1
        queries.append(EvalQuery(row["query"], relevant, kind))
    return queries


def open_for_evaluation(kind: str, path: Path, synonyms: SynonymSet | None = None) -> SearchBackend:
    """A fresh backend; tantivy indexes with one thread so that ties rank the same on every run."""
    options = {"writer_threads": 1} if kind == "tantivy" else {}
    return open_backend(kind, path, synonyms if synonyms is not None else SynonymSet.starter(), **options)


def index_corpus(backend: SearchBackend, documents: Sequence[SearchDocument], batch: int = 5000) -> None:
    for start in range(0, len(documents), batch):
        backend.upsert(documents[start : start + batch])
    backend.commit(1)


def evaluate(
    backend: SearchBackend,
    queries: Sequence[EvalQuery],
    today: date = EVAL_DAY,
    ticket_kinds: frozenset[str] = TICKET_KINDS,
) -> dict[str, Metrics]:
    """Recall@1/5/10 and MRR per query kind (plus "all")."""
    ranks: dict[str, list[int | None]] = defaultdict(list)
    for query in queries:
        mode = "ticket" if query.kind in ticket_kinds else "query"
        result = backend.search(SearchQuery(query.text, today, limit=10, mode=mode))
        rank = next((i for i, hit in enumerate(result.hits, 1) if hit.entry_id in query.relevant), None)
        ranks[query.kind].append(rank)
        ranks["all"].append(rank)
    return {kind: _metrics(values) for kind, values in ranks.items()}


class HybridEvaluation:
    """Our lexical index fused with the default embedder's vectors (``kb.search.hybrid``), as
    ``SearchIndex`` runs it; implements ``search`` for ``evaluate``."""

    kind = "hybrid"

    def __init__(self, backend: SearchBackend, documents: Sequence[SearchDocument], folder: Path,
                 embedder=None, weights=None) -> None:
        from kb.search import embedding, hybrid, pipeline
        from kb.search.vectors import VectorStore

        self.backend = backend
        self.embedder = embedder or embedding.shared_encoder()
        self.encode_query = embedding.QueryEncoder(self.embedder)
        self.weights = weights or hybrid.WEIGHTS
        self.vectors = VectorStore(folder)
        started = time.perf_counter()
        processes = os.cpu_count() or 1
        self.vectors.build(((d.entry_id, pipeline.phrasings(d)) for d in documents),
                           lambda texts: embedding.encode_in_processes(self.embedder, texts, processes),
                           self.embedder.name, self.embedder.dimensions, applied_sequence=1)
        self.build_seconds = round(time.perf_counter() - started, 2)

    def search(self, query: SearchQuery):
        from kb.search import hybrid

        return hybrid.hybrid_search(self.backend, self.vectors, self.encode_query, query, self.weights)

    def candidates(self, queries: Sequence[EvalQuery], today: date = EVAL_DAY,
                   ticket_kinds: frozenset[str] = TICKET_KINDS) -> list[tuple[str, list[int], list[tuple[int, float]]]]:
        """Per query: its kind, the lexical candidates and the (entry, cosine) semantic ones, for fusing offline."""
        from kb.search import hybrid

        out = []
        for query in queries:
            mode = "ticket" if query.kind in ticket_kinds else "query"
            lexical = self.backend.search(SearchQuery(query.text, today, limit=hybrid.CANDIDATES, mode=mode))
            nearest = self.vectors.nearest(self.encode_query(query.text), hybrid.CANDIDATES)
            out.append((mode, [h.entry_id for h in lexical.hits], [(e, s) for e, s, _ in nearest]))
        return out


SEMANTIC_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)  # against lexical 1.0


def fused_ranks(candidates, queries: Sequence[EvalQuery], semantic_weight: float,
                min_similarity: float | None = None) -> list[int | None]:
    from kb.search import hybrid

    min_similarity = hybrid.MIN_SIMILARITY if min_similarity is None else min_similarity
    ranks = []
    for (_, lexical, nearest), query in zip(candidates, queries):
        found = set(lexical)
        semantic = [e for e, s in nearest if e in found or s >= min_similarity]
        fused = hybrid.fuse(lexical, semantic, hybrid.FusionWeights(1.0, semantic_weight))
        ranks.append(next((i for i, (e, _) in enumerate(fused[:10], 1) if e in query.relevant), None))
    return ranks


def cross_validate(candidates, queries: Sequence[EvalQuery], folds: int = 5) -> dict:
    """Per query kind: the semantic weight each fold's training part prefers (MRR), and the held-out metrics
    of those choices. The weight to ship is the one most folds choose, not the best on all queries."""
    report = {}
    for kind in sorted({q.kind for q in queries}):
        index = [i for i, q in enumerate(queries) if q.kind == kind]
        chosen, held_out = [], []
        for fold in range(folds):
            test = [i for n, i in enumerate(index) if n % folds == fold]
            train = [i for n, i in enumerate(index) if n % folds != fold]
            if not test or not train:
                continue

            def mrr(weight: float, rows: list[int]) -> float:
                ranks = fused_ranks([candidates[i] for i in rows], [queries[i] for i in rows], weight)
                return _metrics(ranks).mrr

            best = max(SEMANTIC_WEIGHTS, key=lambda w: (round(mrr(w, train), 4), -abs(w - 1.0)))
            chosen.append(best)
            held_out.extend(fused_ranks([candidates[i] for i in test], [queries[i] for i in test], best))
        report[kind] = {"chosen_per_fold": chosen, "held_out": asdict(_metrics(held_out)),
                        "by_weight": {str(w): asdict(_metrics(fused_ranks(
                            [candidates[i] for i in index], [queries[i] for i in index], w)))
                            for w in SEMANTIC_WEIGHTS}}
    return report


def _metrics(ranks: Sequence[int | None]) -> Metrics:
    n = len(ranks) or 1
    return Metrics(
        queries=len(ranks),
        recall_at_1=sum(1 for r in ranks if r is not None and r <= 1) / n,
        recall_at_5=sum(1 for r in ranks if r is not None and r <= 5) / n,
        recall_at_10=sum(1 for r in ranks if r is not None and r <= 10) / n,
        mrr=sum(1.0 / r for r in ranks if r is not None) / n,
    )


class PlainBaseline:
    """BM25 over jieba precise-mode tokens of question (×2) and answer: no stopwords, synonyms or ticket mode.

    Implements just enough of SearchBackend (``search``) for ``evaluate``.
    """

    kind = "plain-bm25"

    def __init__(self, path: Path) -> None:
        import jieba
        import tantivy

        jieba.setLogLevel(60)
        self._cut = jieba.cut
        self._tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("entry_id", indexed=True, fast=True)
        builder.add_text_field("question", tokenizer_name="ws", index_option="freq")
        builder.add_text_field("answer", tokenizer_name="ws", index_option="freq")
        self.schema = builder.build()
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(path))
        self.index.register_tokenizer("ws", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())

    def _tokens(self, text: str) -> list[str]:
        return [t for t in self._cut(text.lower()) if any(ch.isalnum() for ch in t)]

    def index_documents(self, documents: Iterable[SearchDocument]) -> None:
        writer = self.index.writer(num_threads=1)  # one thread: ties rank the same on every run
        for doc in documents:
            writer.add_document(self._tantivy.Document(
                entry_id=doc.entry_id,
                question=" ".join(self._tokens(doc.question)),
                answer=" ".join(self._tokens(doc.answer)),
            ))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()

    def search(self, query: SearchQuery):
        from kb.search.backend import SearchHit, SearchResult

        t = self._tantivy
        tokens = list(dict.fromkeys(self._tokens(query.text)))[:64]
        if not tokens:
            return SearchResult(0, ())
        clauses = []
        for token in tokens:
            clauses.append((t.Occur.Should, t.Query.boost_query(
                t.Query.term_query(self.schema, "question", token, index_option="freq"), 2.0)))
            clauses.append((t.Occur.Should, t.Query.term_query(self.schema, "answer", token, index_option="freq")))
        searcher = self.index.searcher()
        found = searcher.search(t.Query.boolean_query(clauses), limit=query.limit)
        ids = searcher.fast_field_values("entry_id", [a for _, a in found.hits]) if found.hits else []
        return SearchResult(len(ids), tuple(SearchHit(int(i), s, {}, {}) for (s, _), i in zip(found.hits, ids)))


def run(dataset: str, backend_kind: str, data_dir: Path, per_kind: int | None, workdir: Path,
        hybrid: bool = True, folds: int = 0) -> dict:
    corpus = load_corpus(data_dir, dataset)
    queries = load_queries(data_dir, corpus, dataset, per_kind)
    report: dict = {"dataset": dataset, "documents": len(corpus.documents), "queries": len(queries)}

    started = time.perf_counter()
    ours = open_for_evaluation(backend_kind, workdir / f"{dataset}-{backend_kind}")
    index_corpus(ours, corpus.documents)
    report["ours_index_seconds"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    report["ours"] = {k: asdict(m) for k, m in evaluate(ours, queries).items()}
    report["ours_search_seconds"] = round(time.perf_counter() - started, 2)
    if hybrid:
        evaluation = HybridEvaluation(ours, corpus.documents, workdir / f"{dataset}-vectors")
        report["hybrid_vectors_seconds"] = evaluation.build_seconds
        started = time.perf_counter()
        report["hybrid"] = {k: asdict(m) for k, m in evaluate(evaluation, queries).items()}
        report["hybrid_search_seconds"] = round(time.perf_counter() - started, 2)
        if folds:
            report["cross_validation"] = cross_validate(evaluation.candidates(queries), queries, folds)
    ours.close()

    baseline = PlainBaseline(workdir / f"{dataset}-baseline")
    baseline.index_documents(corpus.documents)
    report["baseline"] = {k: asdict(m) for k, m in evaluate(baseline, queries, ticket_kinds=frozenset()).items()}
    return report


def markdown(report: dict) -> str:
    lines = [
        f"**{report['dataset']}** ({report['documents']} entries, {report['queries']} queries)",
        "",
        "| kind | system | queries | recall@1 | recall@5 | recall@10 | MRR |",
        "|---|---|---|---|---|---|---|",
    ]
    systems = [s for s in ("baseline", "ours", "hybrid") if s in report]
    for kind in sorted(report["ours"], key=lambda k: (k == "all", k)):
        for system in systems:
            m = Metrics(**report[system][kind])
            lines.append(f"| {kind} | {system} | {m.row()} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=[*DATASETS, "all"], default="all")
    parser.add_argument("--backend", default="tantivy")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--per-kind", type=int, default=None, help="first N queries of each kind")
    parser.add_argument("--lexical-only", action="store_true", help="skip the hybrid (no vectors)")
    parser.add_argument("--cross-validate", type=int, default=0, metavar="FOLDS",
                        help="choose the semantic fusion weight per query kind by k-fold cross-validation")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "out")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or default_data_dir()
    if not (data_dir / DATASETS["gov"][0]).exists():
        print(f"no development data in {data_dir}", file=sys.stderr)
        return 2
    datasets = list(DATASETS) if args.dataset == "all" else [args.dataset]
    args.out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="kb-relevance-"))
    try:
        for dataset in datasets:
            report = run(dataset, args.backend, data_dir, args.per_kind, workdir,
                         hybrid=not args.lexical_only, folds=args.cross_validate)
            report["backend"] = args.backend
            out = args.out / f"relevance-{dataset}-{args.backend}.json"
            out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
            print(markdown(report))
            for kind, cv in report.get("cross_validation", {}).items():
                held = Metrics(**cv["held_out"])
                print(f"cross-validation {kind}: weights chosen per fold {cv['chosen_per_fold']}; "
                      f"held out {held.row()}")
            print(f"\nindexed in {report['ours_index_seconds']} s, searched in {report['ours_search_seconds']} s; "
                  f"written to {out}\n")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
