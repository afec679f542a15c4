"""Console benchmark: server time of each main page, and keystroke → results drawn in headless Chromium.

1. Builds (or reuses, with ``--workdir``) the SQLite knowledge base of N published entries that
   ``bench_http`` builds (default 100,000), its index, and gives its operator, office, maintainer and
   reviewer a log-in.
2. Starts gunicorn as ``kb serve`` does and, logged in as each role over one keep-alive-less
   connection per request (as a browser behind a proxy), requests each main page R times (default 50)
   in turn: reports p50 / p95 / max of the time from request to the last byte, on loopback, so the
   server's time plus a few hundred µs of client and kernel.
3. Drives Debian's Chromium (Playwright, ``executable_path``) logged in as the operator on the search
   page: for each of Q queries (default 200) sets the box and fires the ``input`` event as a keystroke
   does, and measures in the page from that event to the next animation frame after the results list
   changed (the fetch, the server, the HTML drawn into the page). Reports p50 / p95 / max.

    python -m benchmarks.bench_console                                   # N=100000
    python -m benchmarks.bench_console --workdir benchmarks/out/profile-100000   # reuse a built one

Results go to ``benchmarks/out/bench-console-<N>.json``; a markdown summary is printed.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import machine, synthetic_corpus
from benchmarks.bench_http import (
    REPO_ROOT, SHANGHAI_OFFSET, build_database, free_port, reindex, start_gunicorn, wait_healthy)

PASSWORD = "bench-console-1"
CHROMIUM = os.environ.get("KB_TEST_CHROMIUM", "/usr/bin/chromium")


def give_log_ins(url: str) -> dict[str, str]:
    """A user name and password for the bench users build_database made (bench-<role>)."""
    from sqlalchemy import select

    from kb.db import UnitOfWork, make_engine, make_session_factory
    from kb.models import User
    from kb.services import accounts

    engine = make_engine(url)
    factory = make_session_factory(engine)
    names = {}
    with factory() as session:
        users = session.execute(select(User.id, User.role).where(User.name.like("bench-%"))).all()
    for user_id, role in users:
        accounts.set_credentials(UnitOfWork(factory), None, user_id, username=f"bench-{role}", password=PASSWORD,
                                 now=datetime.now(timezone.utc))
        names[role] = f"bench-{role}"
    engine.dispose()
    return names


def _request(port: int, method: str, path: str, cookie: str = "", body: str | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), data


def log_in(port: int, username: str) -> str:
    from urllib.parse import urlencode

    _, headers, page = _request(port, "GET", "/login")
    cookie = headers["Set-Cookie"].split(";")[0]
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    status, headers, _ = _request(port, "POST", "/login", cookie,
                                  urlencode({"username": username, "password": PASSWORD, "csrf_token": token}))
    assert status == 302, status
    return headers["Set-Cookie"].split(";")[0]


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2), "max_ms": round(ordered[-1], 2)}


def page_times(port: int, names: dict[str, str], rounds: int) -> dict:
    queries = synthetic_corpus.queries(rounds, seed=777)
    pages = {
        "operator": ["/search", "/search/results?q={q}", "/recommend"],
        "maintainer": ["/unit/knowledge", "/changes", "/changes/new", "/tasks"],
        "unit_reviewer": ["/review", "/unit/knowledge"],
        "office_admin": ["/publish", "/tasks", "/office/flags", "/office/gaps", "/office/users",
                         "/office/policies"],
    }
    from urllib.parse import quote

    report = {}
    for role, paths in pages.items():
        cookie = log_in(port, names[role])
        for path in paths:
            samples = []
            for i in range(rounds):
                target = path.replace("{q}", quote(queries[i % len(queries)])) if "{q}" in path else path
                if path == "/search" and i % 2:  # half the search pages with a query
                    target = f"/search?q={quote(queries[i % len(queries)])}"
                started = time.perf_counter()
                status, _, _ = _request(port, "GET", target, cookie)
                samples.append((time.perf_counter() - started) * 1000)
                assert status == 200, (target, status)
            name = f"{role} {path.split('?')[0]}"
            report[name] = percentiles(samples)
            print(f"  {name:<34} {json.dumps(report[name])}", flush=True)
    return report


KEYSTROKE = """async (q) => {
  const box = document.getElementById('q'), results = document.getElementById('results');
  return await new Promise(resolve => {
    const t0 = performance.now();
    const seen = new MutationObserver(() => {
      seen.disconnect();
      requestAnimationFrame(() => resolve(performance.now() - t0));
    });
    seen.observe(results, {childList: true, subtree: true});
    box.value = q;
    box.dispatchEvent(new Event('input', {bubbles: true}));
  });
}"""


def keystroke_to_results(port: int, username: str, count: int) -> dict:
    from playwright.sync_api import sync_playwright

    queries = synthetic_corpus.queries(count, seed=4242)
    samples = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        page = browser.new_page(base_url=f"http://127.0.0.1:{port}")
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#q")
        for q in queries[:10]:  # warm-up: the worker's first pinyin and first queries
            page.evaluate(KEYSTROKE, q)
        for q in queries:
            samples.append(page.evaluate(KEYSTROKE, q))
        browser.close()
    return percentiles(samples)


def markdown(report: dict) -> str:
    lines = [f"### Console at {report['n']:,} entries ({report['date']}; {machine.machine_line(report['machine'])})", "",
             "| page | p50 ms | p95 ms | max ms |", "|---|---|---|---|"]
    for name, figures in report["pages"].items():
        lines.append(f"| {name} | {figures['p50_ms']} | {figures['p95_ms']} | {figures['max_ms']} |")
    k = report.get("keystroke")
    if k:
        lines += ["", f"Keystroke → results drawn (Chromium, {k['n']} queries): p50 {k['p50_ms']} ms, "
                      f"p95 {k['p95_ms']} ms, max {k['max_ms']} ms"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=50, help="requests per page")
    parser.add_argument("--queries", type=int, default=200, help="keystrokes in Chromium (0 skips)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "out")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kb-bench-console-"))
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'kb.sqlite3'}"
    index_dir = workdir / "index"
    env = {**os.environ, "KB_DATABASE_URL": url, "KB_INDEX_DIR": str(index_dir), "KB_RUN_SCHEDULER": "0",
           "KB_LOG_LEVEL": "WARNING", "KB_SECRET_KEY": "bench-console"}
    report: dict = {"n": args.n, "date": time.strftime("%Y-%m-%d"), "machine": machine.facts()}
    state = workdir / "built.json"
    if not state.exists():
        started = time.perf_counter()
        state.write_text(json.dumps(build_database(url, args.n, datetime.now(SHANGHAI_OFFSET).date())))
        print(f"built {args.n} entries in {time.perf_counter() - started:.1f} s", flush=True)
        print(f"kb reindex: {reindex(env, index_dir)['output']}", flush=True)
    names = give_log_ins(url)
    port = free_port()
    log = workdir / "gunicorn.log"
    server = start_gunicorn(env, port, None, log)
    try:
        wait_healthy(port, server, log)
        report["pages"] = page_times(port, names, args.rounds)
        if args.queries:
            report["keystroke"] = keystroke_to_results(port, names["operator"], args.queries)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"bench-console-{args.n}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
