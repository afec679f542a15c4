"""Worker memory and cold start of `kb serve` at demo size (issue 18, point 14).

For KB_WARM_UP=1 (the default) and KB_WARM_UP=0, on a fresh demo database:

1. starts gunicorn as `kb serve` does (2 workers) and waits until both
   workers answer;
2. sends the first pinyin search and the first ticket recommendation to each
   worker (two at once, so each sync worker takes one), then 40 more of each
   one by one: first versus steady latency;
3. reads each worker's RSS and PSS (/proc/<pid>/smaps_rollup; PSS counts a
   page shared by n processes as 1/n, so it is what a worker really costs).

    .venv/bin/python -m benchmarks.bench_workers [--runs 3]

Prints a Markdown table for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

from benchmarks.bench_http import free_port, kb_command, request, start_gunicorn, wait_healthy
from benchmarks.machine import facts, machine_line

REPO_ROOT = Path(__file__).resolve().parents[1]
PINYIN = "/api/v1/search?q=" + quote("juzhuzheng")
TICKET = {"text": "市民来电反映，小区附近道路夜间施工噪音扰民，影响休息，希望相关部门尽快处理。"}


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _memory_mb(pid: int) -> tuple[float, float]:
    rollup = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        rollup[name.rstrip(":")] = int(value)
    return rollup["Rss"] / 1024, rollup["Pss"] / 1024


def _timed(port: int, method: str, path: str, token: str, body: dict | None = None) -> float:
    started = time.perf_counter()
    status, _ = request(port, method, path, token, body)
    assert status == 200, status
    return (time.perf_counter() - started) * 1000


def _both_at_once(port: int, method: str, path: str, token: str, body: dict | None = None) -> list[float]:
    """The same request twice at once: each of the two sync workers answers one."""
    out: list[float] = []
    threads = [threading.Thread(target=lambda: out.append(_timed(port, method, path, token, body)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def one_run(warm: bool, workdir: Path) -> dict:
    env = {**os.environ, "KB_DATABASE_URL": f"sqlite:///{workdir / 'kb.sqlite3'}",
           "KB_INDEX_DIR": str(workdir / "index"), "KB_WARM_UP": "1" if warm else "0", "KB_RUN_SCHEDULER": "0",
           "KB_SECRETS_KEY_FILE": str(workdir / "secrets_key"), "KB_ATTACHMENT_DIR": str(workdir / "files")}
    if not (workdir / "kb.sqlite3").exists():
        subprocess.run([*kb_command(), "migrate"], env=env, cwd=REPO_ROOT, check=True, capture_output=True)
        demo = subprocess.run([*kb_command(), "demo", "--json"], env=env, cwd=REPO_ROOT, check=True,
                              capture_output=True, text=True).stdout
        (workdir / "operator").write_text(next(json.loads(line)["token"] for line in demo.splitlines()
                                               if json.loads(line)["role"] == "operator"))
    token = (workdir / "operator").read_text()
    port, log = free_port(), workdir / "gunicorn.log"
    server = start_gunicorn(env, port, 2, log)
    try:
        wait_healthy(port, server, log)
        deadline = time.monotonic() + 60
        while len(_children(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # both workers have loaded the app (and, warmed, searched) before taking requests
        first_search = _both_at_once(port, "GET", PINYIN, token)
        first_recommend = _both_at_once(port, "POST", "/api/v1/search/recommend", token, TICKET)
        steady_search = [_timed(port, "GET", PINYIN, token) for _ in range(40)]
        steady_recommend = [_timed(port, "POST", "/api/v1/search/recommend", token, TICKET) for _ in range(40)]
        memory = [_memory_mb(pid) for pid in _children(server.pid)]
        master = _memory_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)
    return {"first_search_ms": max(first_search), "steady_search_ms": statistics.median(steady_search),
            "first_recommend_ms": max(first_recommend), "steady_recommend_ms": statistics.median(steady_recommend),
            "worker_rss_mb": [round(rss) for rss, _ in memory], "worker_pss_mb": [round(pss) for _, pss in memory],
            "master_rss_mb": round(master[0]), "master_pss_mb": round(master[1])}


def markdown(results: dict[bool, list[dict]]) -> str:
    lines = ["| KB_WARM_UP | first pinyin search (slowest of 2 workers) | later, p50 | first recommend | later, p50 "
             "| per worker RSS / PSS | master RSS / PSS |", "|---|---|---|---|---|---|---|"]
    for warm, runs in results.items():
        def med(key, runs=runs):
            return statistics.median(run[key] for run in runs)
        rss = [mb for run in runs for mb in run["worker_rss_mb"]]
        pss = [mb for run in runs for mb in run["worker_pss_mb"]]
        lines.append(f"| {1 if warm else 0} | {med('first_search_ms'):.0f} ms | {med('steady_search_ms'):.1f} ms "
                     f"| {med('first_recommend_ms'):.0f} ms | {med('steady_recommend_ms'):.1f} ms "
                     f"| {min(rss)}–{max(rss)} / {min(pss)}–{max(pss)} MB "
                     f"| {statistics.median(run['master_rss_mb'] for run in runs):.0f} / "
                     f"{statistics.median(run['master_pss_mb'] for run in runs):.0f} MB |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="server starts per setting (medians are reported)")
    args = parser.parse_args(argv)
    results: dict[bool, list[dict]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="kb-bench-workers-") as tmp:
        for _ in range(args.runs):
            for warm in (False, True):  # alternating, so a slow phase of the machine hits both
                results[warm].append(one_run(warm, Path(tmp)))
                print(json.dumps({"warm": warm, **results[warm][-1]}), file=sys.stderr)
    print(machine_line(facts()))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
