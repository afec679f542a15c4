"""Index benchmark: build time, size, query latency and update visibility, tantivy and whoosh.

Builds a synthetic hotline knowledge base of N entries (``synthetic_corpus``),
analyses it once, indexes the same analysed documents into each backend, and
measures in-process latency of 2-4-word operator queries through
``SearchBackend.search`` next to a bare tantivy query on the same terms (an
OR of term queries over the four text fields, top 10, no weights, filters or
stored-field reads; with and without the total count). Update visibility is the time from ``upsert`` to a
second backend instance on the same path finding the entry with a search
after ``refresh()`` (so it includes one query), next to the time until that
instance reports the new ``applied_sequence``.

    python -m benchmarks.bench_index                     # N=100000, whoosh at the same N
    python -m benchmarks.bench_index --n 100000 --whoosh-n 20000

Whoosh can be built at a smaller N (``--whoosh-n``, 0 to skip): its build
and query times grow roughly linearly, and the report says which N it used.
Results go to ``benchmarks/out/bench-index-<N>.json``; a markdown table is
printed.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tantivy

from benchmarks import machine, synthetic_corpus
from kb.search import pipeline
from kb.search.backend import SearchBackend, SearchDocument, SearchQuery
from kb.search.factory import open_backend
from kb.search.synonyms import SynonymSet

REPO_ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2024, 6, 1)


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pick(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 3)

    return {"p50": pick(50), "p95": pick(95), "p99": pick(99), "mean": round(statistics.fmean(ordered), 3)}


def timed(run: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure_queries(call: Callable[[str], object], texts: Sequence[str], warmup: int = 50) -> dict[str, float]:
    for text in texts[:warmup]:
        call(text)
    samples = []
    for text in texts:
        started = time.perf_counter()
        call(text)
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def bare_tantivy(path: Path, synonyms: SynonymSet, count: bool = False) -> Callable[[str], object]:
    """The engine alone on the same index and the same terms as our query.

    Every token our weighted query uses (words, sub-words, synonyms) as a
    plain OR of term queries over the four text fields, top 10: no weights,
    no co-occurrence bonus, no filters, no stored fields, and by default no
    total count (so tantivy may skip blocks).
    """
    index = tantivy.Index.open(str(path))
    index.register_tokenizer("kb_whitespace", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
    schema = index.schema
    searcher = index.searcher()

    def run(text: str) -> object:
        weighted = pipeline.build_query(SearchQuery(text, TODAY), synonyms)
        tokens = weighted.terms if weighted else ()
        clauses = [
            (tantivy.Occur.Should, tantivy.Query.term_query(schema, field, token, index_option="freq"))
            for token in tokens
            for field in pipeline.TEXT_FIELDS
        ]
        return searcher.search(tantivy.Query.boolean_query(clauses), limit=10, count=count)

    return run


def ticket_texts(docs: Sequence[SearchDocument], count: int) -> list[str]:
    """Long citizen-style descriptions: pieces of two answers with narration around them."""
    texts = []
    for i in range(count):
        a, b = docs[(i * 7919) % len(docs)], docs[(i * 104729 + 13) % len(docs)]
        texts.append(f"市民来电反映，{a.question}，{a.answer[:150]}希望相关部门尽快答复。另外咨询{b.question}，{b.answer[:120]}")
    return texts


def build(kind: str, path: Path, analysed: Sequence[pipeline.AnalyzedDocument], synonyms: SynonymSet,
          batch: int = 10_000) -> tuple[SearchBackend, float]:
    options = {"bulk_procs": os.cpu_count() or 1} if kind == "whoosh" else {}
    backend = open_backend(kind, path, synonyms, **options)
    started = time.perf_counter()
    backend.mark_effect_day(TODAY, lambda ids: ([], set()))  # as a rebuild does (kb.search.sync): marks for the day
    for start in range(0, len(analysed), batch):
        backend.upsert_analyzed(analysed[start : start + batch])
    backend.commit(1)
    return backend, time.perf_counter() - started


def update_visibility(kind: str, path: Path, writer: SearchBackend, synonyms: SynonymSet, rounds: int) -> dict:
    reader = open_backend(kind, path, synonyms)
    reader.search(SearchQuery("预热", TODAY))
    commit_ms, sequence_ms, visible_ms = [], [], []
    base = next(synthetic_corpus.generate(1, seed=999))
    for i in range(rounds):
        marker = f"更新验证{i:03d}号事项"
        doc = SearchDocument(**{**base.__dict__, "entry_id": 10_000_000 + i, "question": marker, "effective_on": TODAY})
        started = time.perf_counter()
        writer.upsert([doc])
        writer.commit(2 + i)
        committed = time.perf_counter()
        reader.refresh()
        assert reader.applied_sequence() == 2 + i, "commit not seen after refresh"
        seen = time.perf_counter()
        found = reader.search(SearchQuery(marker, TODAY, limit=1))
        visible = time.perf_counter()
        assert found.hits and found.hits[0].entry_id == doc.entry_id, "update not visible after refresh"
        commit_ms.append((committed - started) * 1000)
        sequence_ms.append((seen - started) * 1000)
        visible_ms.append((visible - started) * 1000)
    reader.close()
    return {"commit_ms": percentiles(commit_ms), "upsert_to_sequence_seen_ms": percentiles(sequence_ms),
            "upsert_to_visible_ms": percentiles(visible_ms), "rounds": rounds}


def bench_backend(kind: str, workdir: Path, analysed, synonyms, texts, tickets, rounds, with_bare) -> dict:
    path = workdir / kind
    backend, seconds = build(kind, path, analysed, synonyms)
    report: dict = {"n": len(analysed), "build_seconds": round(seconds, 2),
                    "index_mib": round(directory_bytes(path) / 2**20, 1)}
    # The corpus and its analysis (~10^6 objects) live on in this process, unlike in a service
    # process; left to the collector they add its full passes to the queries timed next.
    gc.collect()
    gc.freeze()
    if with_bare:  # first: the engine alone must not profit from caches our queries warmed
        report["bare_tantivy_query"] = measure_queries(bare_tantivy(path, synonyms), texts)
        report["bare_tantivy_query_with_count"] = measure_queries(bare_tantivy(path, synonyms, count=True), texts)
    report["query"] = measure_queries(lambda t: backend.search(SearchQuery(t, TODAY)), texts)
    report["query_exact_total"] = measure_queries(lambda t: backend.search(SearchQuery(t, TODAY, exact_total=True)),
                                                  texts)
    report["query_with_facets"] = measure_queries(lambda t: backend.search(SearchQuery(t, TODAY, facets=True)), texts)
    report["ticket"] = measure_queries(lambda t: backend.search(SearchQuery(t, TODAY, mode="ticket")), tickets, warmup=5)
    report["suggest"] = measure_queries(lambda t: backend.suggest(t.split()[0][:2], TODAY), texts)
    report["update"] = update_visibility(kind, path, backend, synonyms, rounds)
    backend.close()
    return report


def markdown(report: dict) -> str:
    lines = [
        f"{report['date']}; {machine.machine_line(report['machine'])}; {report['machine']['tantivy']}",
        "",
        f"N = {report['n']:,} entries; analysis once: {report['analysis_seconds']} s "
        f"({report['analysis_mchars_per_second']} M chars/s, 1 process)",
        "",
        "| backend | N | build s | index MiB | query p50 / p95 / p99 ms | with facets p95 | ticket p50 / p95 | "
        "suggest p95 | commit p50 | upsert→sequence seen p50 | upsert→found p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in ("tantivy", "whoosh"):
        r = report.get(kind)
        if not r:
            continue
        q, f, t, s, u = r["query"], r["query_with_facets"], r["ticket"], r["suggest"], r["update"]
        lines.append(
            f"| {kind} | {r['n']:,} | {r['build_seconds']} | {r['index_mib']} | {q['p50']} / {q['p95']} / {q['p99']} | "
            f"{f['p95']} | {t['p50']} / {t['p95']} | {s['p95']} | {u['commit_ms']['p50']} | "
            f"{u['upsert_to_sequence_seen_ms']['p50']} | "
            f"{u['upsert_to_visible_ms']['p50']} / {u['upsert_to_visible_ms']['p95']} |"
        )
    bare = report.get("tantivy", {}).get("bare_tantivy_query")
    if bare:
        ours = report["tantivy"]["query"]
        counted = report["tantivy"]["bare_tantivy_query_with_count"]
        lines += ["", f"bare tantivy on the same terms: p50 {bare['p50']} / p95 {bare['p95']} / p99 {bare['p99']} ms "
                      f"(with total count: {counted['p50']} / {counted['p95']} / {counted['p99']}); "
                      f"ours / bare at p95: {ours['p95'] / bare['p95']:.2f}× "
                      f"({ours['p95'] / counted['p95']:.2f}× against bare with count)"]
        exact = report["tantivy"].get("query_exact_total")
        if exact:
            lines.append(f"ours with exact_total (every match counted): p50 {exact['p50']} / p95 {exact['p95']} / "
                         f"p99 {exact['p99']} ms, {exact['p95'] / counted['p95']:.2f}× bare with count at p95")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--whoosh-n", type=int, default=None, help="entries for whoosh (default: N; 0 skips it)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--whoosh-queries", type=int, default=300)
    parser.add_argument("--tickets", type=int, default=100)
    parser.add_argument("--update-rounds", type=int, default=20)
    parser.add_argument("--workdir", type=Path, default=None, help="where indexes are built (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "out")
    args = parser.parse_args(argv)
    whoosh_n = args.n if args.whoosh_n is None else min(args.whoosh_n, args.n)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kb-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    synonyms = SynonymSet.starter()
    report: dict = {"n": args.n, "date": time.strftime("%Y-%m-%d"),
                    "machine": {**machine.facts(), "tantivy": tantivy.__version__}}
    try:
        docs = list(synthetic_corpus.generate(args.n))
        chars = sum(len(d.question) + len(d.answer) + sum(map(len, d.similar_questions)) + sum(map(len, d.keywords))
                    for d in docs)
        started = time.perf_counter()
        analysed = [pipeline.analyze_document(d) for d in docs]
        seconds = time.perf_counter() - started
        report["analysis_seconds"] = round(seconds, 2)
        report["analysis_mchars_per_second"] = round(chars / seconds / 1e6, 2)
        report["mean_answer_chars"] = round(statistics.fmean(len(d.answer) for d in docs), 1)
        texts = synthetic_corpus.queries(args.queries)
        tickets = ticket_texts(docs, args.tickets)
        print(f"analysed {args.n} entries in {seconds:.1f} s", flush=True)

        report["tantivy"] = bench_backend("tantivy", workdir, analysed, synonyms, texts, tickets,
                                          args.update_rounds, with_bare=True)
        print(f"tantivy: {json.dumps(report['tantivy'])}", flush=True)
        if whoosh_n:
            report["whoosh"] = bench_backend("whoosh", workdir, analysed[:whoosh_n], synonyms,
                                             texts[: args.whoosh_queries], tickets[: max(5, args.tickets // 10)],
                                             min(args.update_rounds, 10), with_bare=False)
            print(f"whoosh: {json.dumps(report['whoosh'])}", flush=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"bench-index-{args.n}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print()
    print(markdown(report))
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
