"""Hybrid search benchmark: what the vectors cost at N entries (tantivy), beside the lexical index alone.

Measures, on the synthetic hotline knowledge base (``synthetic_corpus``):

- full rebuild: analysis and lexical index (``sync.write_documents``, worker
  processes as ``kb reindex``) then the vectors (every phrasing encoded in
  worker processes, the HNSW graph built), in seconds; the phrasings encoded
  per second, and what a corpus whose phrasings are all distinct would take
  (the synthetic one repeats templates, and identical phrasings are encoded once);
- in-process query latency: lexical (``SearchBackend.search``) and hybrid
  (``kb.search.hybrid.hybrid_search``, every query encoded: no cache);
- publish → found by meaning in another reader (vectors and index committed,
  the reader refreshes and searches);
- memory of search workers (RSS and PSS from /proc/<pid>/smaps_rollup): two
  worker processes at once, lexical only and hybrid, after 200 searches each.

    python -m benchmarks.bench_hybrid --n 100000
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import machine, synthetic_corpus
from benchmarks.bench_index import measure_queries
from kb.search import embedding, pipeline
from kb.search.backend import SearchDocument, SearchQuery
from kb.search.factory import open_backend
from kb.search.hybrid import hybrid_search
from kb.search.sync import write_documents
from kb.search.synonyms import SynonymSet
from kb.search.vectors import VectorStore

REPO_ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2024, 6, 1)

WORKER = r"""
import json, sys, time
from datetime import date
from pathlib import Path
from benchmarks import synthetic_corpus
from kb.search import embedding
from kb.search.backend import SearchQuery
from kb.search.factory import open_backend
from kb.search.hybrid import hybrid_search
from kb.search.synonyms import SynonymSet
from kb.search.vectors import VectorStore

index, vectors, hybrid = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "hybrid"
backend = open_backend("tantivy", index, SynonymSet.starter())
store = VectorStore(vectors)
encode = embedding.QueryEncoder(embedding.shared_encoder())
for text in synthetic_corpus.queries(200, seed=7):
    query = SearchQuery(text, date(2024, 6, 1))
    hybrid_search(backend, store, encode, query) if hybrid else backend.search(query)
time.sleep(2)  # the other worker is loaded too: shared pages are counted once between them
fields = {}
for line in open("/proc/self/smaps_rollup"):
    parts = line.split()
    if parts[0] in ("Rss:", "Pss:"):
        fields[parts[0][:-1].lower() + "_mib"] = round(int(parts[1]) / 1024, 1)
time.sleep(2)
print(json.dumps(fields))
"""


def worker_memory(index: Path, vectors: Path, mode: str) -> list[dict]:
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(index), str(vectors), mode], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    return [json.loads(p.communicate(timeout=600)[0].strip().splitlines()[-1]) for p in procs]


def publish_to_found(index: Path, vectors: Path, backend, store: VectorStore, encoder, rounds: int) -> dict:
    reader = open_backend("tantivy", index, SynonymSet.starter())
    reader_store = VectorStore(vectors)
    encode = embedding.QueryEncoder(encoder)
    samples = []
    base = next(synthetic_corpus.generate(1, seed=999))
    for i in range(rounds):
        question = f"第{i}号游艇驾驶证到期了在哪里换证"
        doc = SearchDocument(**{**base.__dict__, "entry_id": 10_000_000 + i, "question": question,
                                "similar_questions": (), "effective_on": TODAY})
        started = time.perf_counter()
        backend.upsert([doc])
        backend.commit(2 + i)
        store.apply([(doc.entry_id, pipeline.phrasings(doc))], (), encoder.encode, 2 + i)
        reader.refresh()
        found = hybrid_search(reader, reader_store, encode, SearchQuery(f"第{i}号游艇驾照过期去哪换", TODAY, limit=3))
        samples.append((time.perf_counter() - started) * 1000)
        assert doc.entry_id in {h.entry_id for h in found.hits}, "not found by meaning after publishing"
    from benchmarks.bench_index import percentiles

    return percentiles(samples)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "out")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="kb-bench-hybrid-"))
    report: dict = {"n": args.n, "date": time.strftime("%Y-%m-%d"), "machine": machine.facts()}
    try:
        encoder = embedding.shared_encoder()
        encoder.encode(["预热"])
        docs = list(synthetic_corpus.generate(args.n))
        index, vectors = workdir / "index", workdir / "index" / "vectors"
        backend = open_backend("tantivy", index, SynonymSet.starter())
        started = time.perf_counter()
        backend.mark_effect_day(TODAY, lambda ids: ([], set()))
        write_documents(backend, iter(docs), len(docs), args.processes)
        backend.commit(1)
        lexical_seconds = time.perf_counter() - started
        phrasings = [(d.entry_id, pipeline.phrasings(d)) for d in docs]
        count = sum(len(p) for _, p in phrasings)
        distinct = len({" ".join(t.split()) for _, p in phrasings for t in p})
        store = VectorStore(vectors)
        started = time.perf_counter()
        store.build(phrasings, lambda texts: embedding.encode_in_processes(encoder, texts, args.processes),
                    encoder.name, encoder.dimensions, 1, threads=args.processes)
        vector_seconds = time.perf_counter() - started
        sample = [t for _, p in phrasings[:4000] for t in p][:2000]
        sample = list(dict.fromkeys(sample))
        started = time.perf_counter()
        embedding.encode_in_processes(encoder, sample, 1)
        per_core = len(sample) / (time.perf_counter() - started)
        report["rebuild"] = {
            "lexical_seconds": round(lexical_seconds, 1), "vectors_seconds": round(vector_seconds, 1),
            "total_seconds": round(lexical_seconds + vector_seconds, 1), "phrasings": count,
            "distinct_phrasings_encoded": distinct, "encoded_per_second_one_core": round(per_core),
            "all_distinct_estimate_seconds": round(
                lexical_seconds + vector_seconds + (count - distinct) / (per_core * args.processes), 1),
            "vectors_mib": round(sum(f.stat().st_size for f in vectors.iterdir()) / 2**20, 1)}
        print("rebuild", json.dumps(report["rebuild"]), flush=True)

        texts = synthetic_corpus.queries(args.queries)
        report["lexical_query"] = measure_queries(lambda t: backend.search(SearchQuery(t, TODAY)), texts)
        uncached = lambda text: encoder.encode([text])[0]  # noqa: E731
        report["hybrid_query"] = measure_queries(
            lambda t: hybrid_search(backend, store, uncached, SearchQuery(t, TODAY)), texts)
        report["query_encoding"] = measure_queries(uncached, texts)
        probe = encoder.encode(["社保卡补办"])[0]
        report["nearest_only"] = measure_queries(lambda t: store.nearest(probe, 50), texts[:200])
        print("queries", json.dumps({k: report[k] for k in ("lexical_query", "hybrid_query", "query_encoding",
                                                             "nearest_only")}), flush=True)
        report["publish_to_found_by_meaning_ms"] = publish_to_found(index, vectors, backend, store, encoder,
                                                                    args.rounds)
        print("publish", json.dumps(report["publish_to_found_by_meaning_ms"]), flush=True)
        backend.close()
        report["worker_memory"] = {mode: worker_memory(index, vectors, mode) for mode in ("lexical", "hybrid")}
        print("memory", json.dumps(report["worker_memory"]), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"bench-hybrid-{args.n}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
