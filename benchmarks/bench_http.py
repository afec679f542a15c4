"""HTTP benchmark: full reindex, searches under concurrent load through gunicorn, publish → visible.

1. Builds a SQLite knowledge base of N published entries (default 100,000)
   from ``synthetic_corpus``, inserted in bulk through the models (units,
   the three-level category tree, entries and their versions; no HTTP), plus
   an operator, the office and one unit's maintainer and reviewer through
   the use cases (tokens).
2. Times ``kb reindex`` (a full rebuild from the database, in a subprocess).
3. Starts gunicorn as ``kb serve`` does (``service.cli.gunicorn_arguments``:
   one sync worker per core, access log on stdout) on a free loopback
   port and drives C concurrent clients (default 32, in ``--client-processes``
   processes, each process one ``selectors`` loop over its clients' sockets;
   one connection per request, as gunicorn's sync workers close them, closed
   by the client once the answer is whole, as a reverse proxy does) of
   ``GET /api/v1/search?q=…`` with the operator's token for D seconds
   (default 20, after a warm-up), with 2-4-word operator queries. Reports
   throughput, latency p50/p95/p99, errors (non-200 answers or failures) and
   the CPU time per search of the server's processes and of the clients.
   These clients send their next search as soon as the last is answered, so
   they keep the server saturated and their latency is C / throughput (Little's
   law); then the same clients send on a fixed schedule at given rates
   (``--rates``, default 300, 400, 450 and 500 searches/s in all), which is the latency an
   operator sees at that load.
4. Publish → visible: a second gunicorn on another port shares the index
   folder and the database (another process of the same host). Each round
   publishes a new entry through the API on the first (create, submit, unit
   review, office review), then polls search on the second until the entry
   is found; reports p50/p95 of the delay from the publish answer.

Between 3 and 4, one client alone searches for a few seconds: the service
time of one search without queueing behind the other clients.

    python -m benchmarks.bench_http                       # N=100000
    python -m benchmarks.bench_http --n 20000 --seconds 10 --workers 4
    python -m benchmarks.bench_http --workdir benchmarks/out/profile-100000   # reuse a built one

Results go to ``benchmarks/out/bench-http-<N>.json``; a markdown summary is
printed. Standard library only (plus the project's own dependencies).
"""
from __future__ import annotations

import argparse
import heapq
import http.client
import json
import multiprocessing
import os
import random
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import machine, synthetic_corpus
from benchmarks.bench_index import percentiles

REPO_ROOT = Path(__file__).resolve().parents[1]
SHANGHAI_OFFSET = timezone(timedelta(hours=8))
ALL_CHECKS_PASS = {"no_typos": True, "clear": True, "answer_matches": True, "accurate_with_basis": True}


# -- 1. the knowledge base ---------------------------------------------------
def build_database(url: str, n: int, today: date) -> dict:
    """A migrated SQLite database with N published entries; returns tokens and ids the later steps need."""
    from sqlalchemy import insert

    from kb.db import UnitOfWork, make_engine, make_session_factory
    from kb.migrate import upgrade
    from kb.models import Category, KnowledgeEntry, KnowledgeVersion, Unit
    from kb.services import directory
    from kb.submission import question_key

    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    now = datetime.now(timezone.utc)
    docs = list(synthetic_corpus.generate(n, today=today))
    topics = synthetic_corpus.TOPICS

    categories: dict[int, dict] = {}
    for t, topic in enumerate(topics):
        categories[1000 + t] = {"id": 1000 + t, "name": topic.name, "parent_id": None, "position": t}
        for m, matter in enumerate(topic.matters):
            matter_id = 100_000 + t * 100 + m
            categories[matter_id] = {"id": matter_id, "name": matter, "parent_id": 1000 + t, "position": m}
            for a, action in enumerate(topic.actions):
                action_id = 10_000_000 + t * 10_000 + m * 100 + a
                categories[action_id] = {"id": action_id, "name": action, "parent_id": matter_id, "position": a}
    units: dict[str, dict] = {}
    for doc in docs:
        code = doc.unit_code
        if code not in units:
            topic = topics[doc.category_path[0] - 1000]
            units[code] = {"id": len(units) + 1, "code": code, "kind": "department", "created_at": now,
                           "name": f"{doc.payload['unit_name']}（{topic.name}）"}
    with factory() as session:
        session.execute(insert(Category), [{**c, "is_notice": False} for c in categories.values()])
        session.execute(insert(Unit), list(units.values()))
        for start in range(0, n, 20_000):
            batch = docs[start:start + 20_000]
            session.execute(insert(KnowledgeEntry), [
                {"id": d.entry_id, "unit_id": units[d.unit_code]["id"], "status": "published", "published_number": 1,
                 "created_at": now, "published_at": now} for d in batch])
            session.execute(insert(KnowledgeVersion), [
                {"entry_id": d.entry_id, "number": 1, "question": d.question, "question_key": question_key(d.question),
                 "similar_questions": list(d.similar_questions), "answer": d.answer, "keywords": list(d.keywords),
                 "category_id": d.category_path[-1], "effective_on": d.effective_on, "expires_on": d.expires_on,
                 "policy_attachments": 0, "urgent": False, "format": "qa", "created_at": now} for d in batch])
        session.commit()
    publisher_unit = next(iter(units))

    def user(role: str, unit_code: str | None) -> str:
        _, token = directory.create_user(UnitOfWork(factory), None, name=f"bench-{role}", role=role,
                                         unit_code=unit_code, now=now)
        return token

    tokens = {"operator": user("operator", None), "office": user("office_admin", None),
              "maintainer": user("maintainer", publisher_unit), "reviewer": user("unit_reviewer", publisher_unit)}
    engine.dispose()
    return {"tokens": tokens, "category_id": docs[0].category_path[-1], "entries": n}


# -- 2. reindex ----------------------------------------------------------------
def kb_command() -> list[str]:
    script = Path(sys.executable).with_name("kb")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from service.cli import main; main()"]


def reindex(env: dict, index_dir: Path) -> dict:
    started = time.perf_counter()
    proc = subprocess.run([*kb_command(), "reindex", "--index-dir", str(index_dir)], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    match = re.search(r"indexed (\d+) published entries in ([\d.]+) s", proc.stdout)
    return {"seconds": float(match.group(2)) if match else None, "wall_seconds": round(wall, 1),
            "entries": int(match.group(1)) if match else None, "output": proc.stdout.strip()}


# -- 3. gunicorn under load ------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict, port: int, workers: int | None, log: Path) -> subprocess.Popen:
    """The server `kb serve` runs (service.cli.gunicorn_arguments: sync workers, access log on stdout)."""
    from service.cli import gunicorn_arguments

    with open(log, "ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", *gunicorn_arguments("127.0.0.1", port, workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)


def server_cpu_seconds(master_pid: int) -> float:
    """CPU time (user + system) of the gunicorn master's worker processes so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return float("nan")
    for pid in [str(master_pid), *children]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def request(port: int, method: str, path: str, token: str, body: dict | None = None,
            timeout: float = 30) -> tuple[int, dict | list | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)
    finally:
        conn.close()


def wait_healthy(port: int, proc: subprocess.Popen, log: Path, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited: " + log.read_text(errors="replace")[-3000:])
        try:
            status, body = request(port, "GET", "/healthz", "", timeout=30)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn on port {port} did not become healthy in {seconds:.0f} s")


def _search_path(query: str) -> str:
    return "/api/v1/search?q=" + urllib.parse.quote(query)


REQUEST_TIMEOUT_S = 30.0


def _complete(response: bytearray) -> bool:
    """Whether ``response`` holds a whole answer by its Content-Length: a client that has it closes
    at once, as a reverse proxy does (gunicorn's sync worker waits for that close before it takes
    the next request)."""
    end = response.find(b"\r\n\r\n")
    if end < 0:
        return False
    match = re.search(rb"(?im)^content-length:\s*(\d+)", bytes(response[:end]))
    return match is not None and len(response) - end - 4 >= int(match.group(1))


def _drive(port: int, token: str, queries: Sequence[str], threads: int, seconds: float, seed: int,
           rate: float | None = None) -> dict:
    """One client process: `threads` clients searching for `seconds`; latencies of every request.

    Without ``rate`` each client sends its next search as soon as the last one is
    answered (a closed loop: the clients keep the server saturated). With
    ``rate`` (searches per second, for this process's clients together) each
    client sends on a fixed schedule, whatever the answers do, and latency counts
    from the scheduled moment, so a late answer also delays what queued behind
    it (no coordinated omission).

    The clients share one thread and a ``selectors`` loop over non-blocking
    sockets, with the requests encoded beforehand (as wrk does): threads would
    spend the two cores the server needs on the GIL and add their own waits for
    it to the latencies measured.
    """
    rng = random.Random(seed)
    requests = [(f"GET {_search_path(q)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                 f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n").encode() for q in queries]
    interval = threads / rate if rate else 0.0
    selector = selectors.DefaultSelector()
    results: list[tuple[float, int | str]] = []
    cpu_started = time.process_time()
    now = time.perf_counter()
    stop_at = now + seconds
    # (next start, client number): clients waiting for their next scheduled moment
    waiting = [(now + (rng.random() * interval if rate else 0.0), i) for i in range(threads)]
    heapq.heapify(waiting)
    in_flight = 0

    def finish(state: dict, outcome: int | str) -> None:
        nonlocal in_flight
        selector.unregister(state["sock"])
        state["sock"].close()
        in_flight -= 1
        done = time.perf_counter()
        results.append(((done - state["started"]) * 1000, outcome))
        following = state["started"] + interval if rate else done
        if following < stop_at:
            heapq.heappush(waiting, (following, state["client"]))

    while waiting or in_flight:
        now = time.perf_counter()
        while waiting and waiting[0][0] <= now:
            started, client = heapq.heappop(waiting)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            state = {"sock": sock, "client": client, "started": started, "out": rng.choice(requests),
                     "in": bytearray()}
            selector.register(sock, selectors.EVENT_WRITE, state)
            in_flight += 1
        for key in [k for k in selector.get_map().values() if now - k.data["started"] > REQUEST_TIMEOUT_S]:
            finish(key.data, "Timeout")  # what http.client's timeout did: a hung answer ends the client's wait
        timeout = min(max(0.0, waiting[0][0] - now), 1.0) if waiting else 1.0
        for key, events in selector.select(timeout):
            state = key.data
            sock = state["sock"]
            try:
                if events & selectors.EVENT_WRITE:
                    sent = sock.send(state["out"])
                    state["out"] = state["out"][sent:]
                    if not state["out"]:
                        selector.modify(sock, selectors.EVENT_READ, state)
                    continue
                chunk = sock.recv(65536)
                if chunk:
                    state["in"] += chunk
                    if not _complete(state["in"]):
                        continue
                elif not _complete(state["in"]):  # closed before the whole answer came
                    finish(state, "IncompleteResponse")
                    continue
                head = bytes(state["in"][:12])
                finish(state, int(head[9:12]) if head.startswith(b"HTTP/1.") else "BadResponse")
            except OSError as exc:
                finish(state, type(exc).__name__)
    selector.close()
    return {"latencies": [ms for ms, _ in results], "outcomes": Counter(o for _, o in results),
            "cpu_seconds": time.process_time() - cpu_started}


def load(port: int, token: str, queries: Sequence[str], clients: int, seconds: float,
         processes: int, warmup: float, rate: float | None = None, server_pid: int | None = None) -> dict:
    """``clients`` concurrent clients for ``seconds``: closed loop, or ``rate`` searches/s offered in all."""
    per_process = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    rates = [rate * k / clients if rate else None for k in per_process]
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        if warmup > 0:
            pool.starmap(_drive, [(port, token, queries, k, warmup, 100 + i, r)
                                  for i, (k, r) in enumerate(zip(per_process, rates))])
        server_cpu = server_cpu_seconds(server_pid) if server_pid else float("nan")
        started = time.perf_counter()
        parts = pool.starmap(_drive, [(port, token, queries, k, seconds, i, r)
                                      for i, (k, r) in enumerate(zip(per_process, rates))])
        elapsed = time.perf_counter() - started
        server_cpu = (server_cpu_seconds(server_pid) - server_cpu) if server_pid else float("nan")
    latencies = [ms for part in parts for ms in part["latencies"]]
    outcomes: Counter = Counter()
    for part in parts:
        outcomes.update(part["outcomes"])
    ok = outcomes.get(200, 0)
    requests = max(1, len(latencies))
    return {"clients": clients, "offered_per_second": rate, "seconds": round(elapsed, 1),
            "requests": len(latencies), "ok": ok,
            "errors": len(latencies) - ok, "outcomes": {str(k): v for k, v in outcomes.items()},
            "throughput_per_second": round(ok / elapsed, 1), "latency_ms": percentiles(latencies),
            "server_cpu_ms_per_request": round(server_cpu * 1000 / requests, 2),
            "client_cpu_ms_per_request": round(sum(p["cpu_seconds"] for p in parts) * 1000 / requests, 2)}


# -- 4. publish → visible on another process ------------------------------------------
def publish(port: int, tokens: dict, category_id: int, question: str, today: date) -> int:
    status, cr = request(port, "POST", "/api/v1/change-requests", tokens["maintainer"], {"kind": "new", "proposal": {
        "question": question, "answer": "1. 携带居民身份证到区政务服务中心窗口申请。\n2. 工作日内办结。",
        "category_id": category_id, "effective_on": today.isoformat(), "keywords": ["基准测试"]}})
    assert status == 201, cr
    status, body = request(port, "POST", f"/api/v1/change-requests/{cr['id']}/submit", tokens["maintainer"], {})
    assert status == 200, body
    status, body = request(port, "POST", f"/api/v1/change-requests/{cr['id']}/unit-review", tokens["reviewer"],
                           {"approve": True, "checks": ALL_CHECKS_PASS})
    assert status == 200, body
    status, body = request(port, "POST", f"/api/v1/change-requests/{cr['id']}/office-review", tokens["office"],
                           {"decision": "publish"})
    assert status == 200, body
    return body["entry_id"]


def publish_visibility(port_a: int, port_b: int, tokens: dict, category_id: int, rounds: int, today: date) -> dict:
    delays, publish_ms = [], []
    rng = random.Random(7)
    words = ("蓝莓", "茶园", "渔港", "竹编", "陶瓷", "剪纸", "刺绣", "柑橘", "湿地", "古镇")
    run = int(time.time())  # a reused workdir keeps earlier runs' entries: each question is new
    for i in range(rounds):
        question = f"{rng.choice(words)}{rng.choice(words)}基准第{run}{i + 1:03d}号试点补贴怎么申请"
        started = time.perf_counter()
        entry_id = publish(port_a, tokens, category_id, question, today)
        published = time.perf_counter()
        publish_ms.append((published - started) * 1000)
        while True:
            status, body = request(port_b, "GET", _search_path(question), tokens["operator"])
            if status == 200 and any(h["entry_id"] == entry_id for h in body["hits"]):
                break
            if time.perf_counter() - published > 10:
                raise RuntimeError(f"entry {entry_id} not visible on the other process after 10 s")
            time.sleep(0.005)
        delays.append((time.perf_counter() - published) * 1000)
    return {"rounds": rounds, "visible_ms": percentiles(delays), "publish_call_ms": percentiles(publish_ms)}


# -- report ----------------------------------------------------------------------
def markdown(report: dict) -> str:
    load_ = report["load"]
    lat = load_["latency_ms"]
    publish = report.get("publish_visible")  # absent with --publish-rounds 0
    lines = [
        f"HTTP benchmark, N={report['n']:,} ({report['date']}; {machine.machine_line(report['machine'])}; "
        f"gunicorn {report['workers']} sync workers, as `kb serve`)",
        "",
        "| measure | value |",
        "|---|---|",
        f"| database build (bulk insert) | {report['build_seconds']} s |",
        f"| `kb reindex` (full rebuild from the database) | {report['reindex']['seconds']} s "
        f"(process wall {report['reindex']['wall_seconds']} s) |",
        f"| searches/s at {load_['clients']} clients | {load_['throughput_per_second']} |",
        f"| latency p50 / p95 / p99 | {lat['p50']} / {lat['p95']} / {lat['p99']} ms |",
        f"| errors | {load_['errors']} of {load_['requests']} |",
        f"| CPU per search: server / clients | {load_['server_cpu_ms_per_request']} / "
        f"{load_['client_cpu_ms_per_request']} ms |",
        *[f"| paced, {p['offered_per_second']:g}/s offered by {p['clients']} clients: served/s, p50 / p95 / p99 | "
          f"{p['throughput_per_second']}, {p['latency_ms']['p50']} / {p['latency_ms']['p95']} / "
          f"{p['latency_ms']['p99']} ms, {p['errors']} errors |" for p in report.get("paced", [])],
        *([f"| one client alone: searches/s, latency p50 / p95 | {report['single_client']['throughput_per_second']}, "
           f"{report['single_client']['latency_ms']['p50']} / {report['single_client']['latency_ms']['p95']} ms |"]
          if "single_client" in report else []),
        *([f"| publish → visible on another process, p50 / p95 | {publish['visible_ms']['p50']} / "
           f"{publish['visible_ms']['p95']} ms |",
           f"| publish (4 API calls) p50 | {publish['publish_call_ms']['p50']} ms |"] if publish else []),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: what `kb serve` uses, one per core)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--single-seconds", type=float, default=5.0, help="then one client alone (0 skips)")
    parser.add_argument("--rates", default="300,400,450,500",
                        help="then the same clients on a fixed schedule at these searches/s in all (empty skips)")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--publish-rounds", type=int, default=20, help="0 skips")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="database and index (default: a temp dir); one built before (built.json) is reused")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "out")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kb-bench-http-"))
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'kb.sqlite3'}"
    index_dir = workdir / "index"
    today = datetime.now(SHANGHAI_OFFSET).date()
    env = {**os.environ, "KB_DATABASE_URL": url, "KB_INDEX_DIR": str(index_dir), "KB_RUN_SCHEDULER": "0",
           "KB_LOG_LEVEL": "WARNING"}
    from service.cli import default_workers

    workers = args.workers or default_workers()
    report: dict = {"n": args.n, "date": time.strftime("%Y-%m-%d"), "workers": workers, "machine": machine.facts()}
    servers: list[subprocess.Popen] = []
    try:
        state = workdir / "built.json"
        if state.exists():  # built by an earlier run (or benchmarks.profile_search) in this folder
            built = json.loads(state.read_text(encoding="utf-8"))
            report["build_seconds"] = None
            report["reindex"] = {"seconds": None, "wall_seconds": None, "entries": built["entries"],
                                 "output": "reused"}
            print(f"reusing the knowledge base and index in {workdir}", flush=True)
        else:
            started = time.perf_counter()
            built = build_database(url, args.n, today)
            report["build_seconds"] = round(time.perf_counter() - started, 1)
            print(f"built the knowledge base of {args.n} entries in {report['build_seconds']} s", flush=True)
            report["reindex"] = reindex(env, index_dir)
            print(f"kb reindex: {report['reindex']['output']}", flush=True)
            if args.workdir is not None:
                state.write_text(json.dumps(built), encoding="utf-8")

        port_a, port_b = free_port(), free_port()
        log = workdir / "gunicorn.log"
        servers.append(start_gunicorn(env, port_a, workers, log))
        wait_healthy(port_a, servers[0], log)
        texts = synthetic_corpus.queries(args.queries)
        report["load"] = load(port_a, built["tokens"]["operator"], texts, args.clients, args.seconds,
                              args.client_processes, args.warmup, server_pid=servers[0].pid)
        print(f"load: {json.dumps(report['load'])}", flush=True)
        report["paced"] = []
        for rate in [float(r) for r in args.rates.split(",") if r.strip()]:
            report["paced"].append(load(port_a, built["tokens"]["operator"], texts, args.clients, args.seconds,
                                        args.client_processes, 1.0, rate=rate, server_pid=servers[0].pid))
            print(f"paced at {rate:g}/s: {json.dumps(report['paced'][-1])}", flush=True)
        if args.single_seconds > 0:  # service time without queueing: one client
            report["single_client"] = load(port_a, built["tokens"]["operator"], texts, 1, args.single_seconds,
                                           1, 0)
            print(f"one client: {json.dumps(report['single_client'])}", flush=True)

        if args.publish_rounds > 0:
            servers.append(start_gunicorn(env, port_b, 1, log))
            wait_healthy(port_b, servers[1], log)
            report["publish_visible"] = publish_visibility(port_a, port_b, built["tokens"], built["category_id"],
                                                           args.publish_rounds, today)
            print(f"publish → visible: {json.dumps(report['publish_visible'])}", flush=True)
    finally:
        for proc in servers:
            proc.terminate()
        for proc in servers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"bench-http-{args.n}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print()
    print(markdown(report))
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
