"""Where one GET /api/v1/search spends its time, without gunicorn.

Builds (once) the same SQLite knowledge base and index as ``bench_http``
under ``--workdir`` (default ``benchmarks/out/profile-<N>``) and reuses them on
later runs, then calls the search endpoint through the Flask test client
with the operator's token: reports the time per request and, with
``--profile``, the cProfile functions with the largest cumulative time.

    python -m benchmarks.profile_search                   # N=100000, 2000 requests
    python -m benchmarks.profile_search --profile --requests 1000
    python -m benchmarks.profile_search --path '/api/v1/search?facets=1&q={q}'
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import time
import urllib.parse
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import bench_http, synthetic_corpus
from benchmarks.bench_index import percentiles


def prepare(workdir: Path, n: int) -> dict:
    """The database, tokens and index of N entries under workdir, built on the first run only."""
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'kb.sqlite3'}"
    state = workdir / "built.json"
    env = {**os.environ, "KB_DATABASE_URL": url, "KB_INDEX_DIR": str(workdir / "index"), "KB_RUN_SCHEDULER": "0",
           "KB_LOG_LEVEL": "WARNING"}
    if not state.exists():
        started = time.perf_counter()
        built = bench_http.build_database(url, n, datetime.now(bench_http.SHANGHAI_OFFSET).date())
        print(f"built {n} entries in {time.perf_counter() - started:.1f} s", flush=True)
        print(bench_http.reindex(env, workdir / "index")["output"], flush=True)
        state.write_text(json.dumps(built), encoding="utf-8")
    os.environ.update(env)
    return json.loads(state.read_text(encoding="utf-8"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--path", default="/api/v1/search?q={q}", help="{q}: a URL-quoted query")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime, …")
    args = parser.parse_args(argv)
    workdir = args.workdir or bench_http.REPO_ROOT / "benchmarks" / "out" / f"profile-{args.n}"
    built = prepare(workdir, args.n)

    from service.app import create_app

    app = create_app()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {built['tokens']['operator']}"}
    rng = random.Random(1)
    paths = [args.path.format(q=urllib.parse.quote(q)) for q in synthetic_corpus.queries(2000)]
    for path in paths[:200]:  # warm-up
        assert client.get(path, headers=headers).status_code == 200
    profiler = cProfile.Profile() if args.profile else None
    latencies = []
    cpu_started, started = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for _ in range(args.requests):
        t0 = time.perf_counter()
        response = client.get(rng.choice(paths), headers=headers)
        latencies.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"{args.requests} requests: {wall / args.requests * 1000:.2f} ms wall, "
          f"{cpu / args.requests * 1000:.2f} ms CPU per request; latency {percentiles(latencies)}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
