"""Import and export benchmark (not a timed test): a 1,000-row import end to end, and exports of N entries.

Import: a 1,000-row .xlsx filled in like the template (answers of ~400
characters) is POSTed to /api/v1/imports through the whole Flask app, first
as a dry run, then for real (1,000 drafts in one transaction).

Export: N published entries are written straight into a fresh database, then
a child process (so its peak memory is the export's own) asks
/api/v1/knowledge/export for xlsx and for csv and reads the streamed body;
the app is served over HTTP in that process (werkzeug) and read through
urllib in 64 KB chunks; it reports the time, the size and its peak resident
memory above what it held before the request. Run at two sizes to see memory stay flat.

    python -m benchmarks.bench_import                       # export at 10,000 and 100,000 entries
    python -m benchmarks.bench_import --export-n 20000      # one size

SQLite in a temporary folder; figures go to benchmarks/out/bench-import.json
and a markdown table is printed (docs/import-export.md has the last run).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import machine

REPO_ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
ANSWER = ("一、办理地点：区政务服务中心一楼综合窗口，工作日上午9:00—12:00，下午13:30—17:00。\n"
          "二、所需材料：申请人居民身份证原件及复印件；户口簿；近期一寸免冠照片两张；相关证明材料。\n"
          "三、办理流程：窗口受理—材料审核—现场核验—出具结果，材料齐全的即时办结。\n"
          "四、收费标准：不收费。\n五、咨询电话：12345。\n") * 2


def _app(url: str, index_dir: str, *, open_index: bool = True):
    from service.app import create_app

    return create_app({"DATABASE_URL": url, "INDEX_DIR": index_dir, "SEARCH_LOG_IN_BACKGROUND": False,
                       "SEARCH_OPEN_ON_STARTUP": open_index})


def _setup(url: str) -> dict:
    """Migrated database with categories, unit HX, a maintainer and the office; their tokens."""
    from kb.categories_seed import ensure_seed_data
    from kb.db import UnitOfWork, make_engine, make_session_factory
    from kb.migrate import upgrade
    from kb.services import directory

    upgrade(url)
    factory = make_session_factory(make_engine(url))
    ensure_seed_data(lambda: UnitOfWork(factory), lambda: NOW)
    directory.create_unit(UnitOfWork(factory), None, code="HX", name="华山街道办事处", kind="town", parent_code=None,
                          now=NOW)
    _, maintainer = directory.create_user(UnitOfWork(factory), None, name="知识员", role="maintainer",
                                          unit_code="HX", now=NOW)
    _, office = directory.create_user(UnitOfWork(factory), None, name="热线办", role="office_admin", unit_code=None,
                                      now=NOW)
    return {"maintainer": maintainer, "office": office}


def import_workbook(rows: int) -> bytes:
    from openpyxl import Workbook

    from kb.services.knowledge_sheet import IMPORT_COLUMNS

    workbook = Workbook()
    sheet = workbook.active
    sheet.append([c.template_heading for c in IMPORT_COLUMNS])
    for i in range(rows):
        sheet.append([None, None, "社会民生", "一问一答", f"第{i}号事项：华山街道如何办理居住登记和相关证明？",
                      f"第{i}号事项在哪办\n第{i}号事项要什么材料", ANSWER, f"居住证、登记、事项{i}",
                      "关于进一步做好居住证办理工作的通知", "鲁政办字〔2021〕126号", 1, date(2026, 1, 1), None, "否"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def bench_import(rows: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/kb.sqlite3"
        tokens = _setup(url)
        client = _app(url, f"{tmp}/index").test_client()
        data = import_workbook(rows)
        headers = {"Authorization": f"Bearer {tokens['maintainer']}"}
        out = {"rows": rows, "file_bytes": len(data)}
        for label, query in (("dry_run_s", {"dry_run": 1}), ("import_s", {})):
            started = time.perf_counter()
            r = client.post("/api/v1/imports", query_string=query, headers=headers,
                            data={"file": (io.BytesIO(data), "knowledge.xlsx")}, content_type="multipart/form-data")
            out[label] = round(time.perf_counter() - started, 2)
            assert r.status_code in (200, 201), r.json
            assert len(r.json["created"]) == rows
        return out


def seed_published(url: str, n: int) -> None:
    """N published entries (one version each) written in bulk, spread over the Art. 4 categories."""
    from sqlalchemy import insert, select

    from kb.db import make_engine
    from kb.models import Category, KnowledgeEntry, KnowledgeVersion, Unit
    from kb.submission import question_key

    engine = make_engine(url)
    with engine.begin() as conn:
        unit_id = conn.scalar(select(Unit.id).where(Unit.code == "HX"))
        categories = list(conn.scalars(select(Category.id)))
        for start in range(0, n, 5000):
            stop = min(n, start + 5000)
            entries = [{"id": i + 1, "unit_id": unit_id, "status": "published", "published_number": 1,
                        "created_at": NOW, "published_at": NOW, "verified_at": None} for i in range(start, stop)]
            conn.execute(insert(KnowledgeEntry), entries)
            versions = []
            for i in range(start, stop):
                question = f"第{i}号事项：华山街道如何办理居住登记和相关证明？"
                versions.append({
                    "entry_id": i + 1, "number": 1, "question": question, "question_key": question_key(question),
                    "similar_questions": [f"第{i}号事项在哪办"], "answer": ANSWER, "keywords": ["居住证", f"事项{i}"],
                    "category_id": categories[i % len(categories)], "policy_title": "关于进一步做好居住证办理工作的通知",
                    "policy_number": "鲁政办字〔2021〕126号", "policy_attachments": 1,
                    "effective_on": date(2026, 1, 1), "expires_on": None, "urgent": False, "format": "qa",
                    "created_at": NOW})
            conn.execute(insert(KnowledgeVersion), versions)
    engine.dispose()


def export_child(url: str, index_dir: str, token: str, fmt: str) -> dict:
    """Run in a child process: the app served over HTTP (werkzeug, a thread), one export read in 64 KB
    chunks through urllib; time, bytes and the process's peak memory growth during the export."""
    import threading
    import urllib.request

    from werkzeug.serving import make_server

    # No search index: at startup it would rebuild 100,000 entries in a background thread, which is not
    # the export's memory or time.
    server = make_server("127.0.0.1", 0, _app(url, index_dir, open_index=False), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/api/v1/knowledge/export"
    headers = {"Authorization": f"Bearer {token}"}

    def fetch(query: str) -> tuple[int, int]:
        size = 0
        with urllib.request.urlopen(urllib.request.Request(f"{base}?{query}", headers=headers)) as response:
            while chunk := response.read(65536):
                size += len(chunk)
            return response.status, size

    fetch("format=csv&updated_since=2100-01-01")  # warm: imports, first queries
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    status, size = fetch(f"format={fmt}")
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    server.shutdown()
    return {"format": fmt, "status": status, "seconds": round(seconds, 1), "bytes": size,
            "rss_before_mb": round(before_kb / 1024, 1), "rss_peak_mb": round(peak_kb / 1024, 1),
            "rss_growth_mb": round((peak_kb - before_kb) / 1024, 1)}


def bench_export(n: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/kb.sqlite3"
        tokens = _setup(url)
        started = time.perf_counter()
        seed_published(url, n)
        print(f"  seeded {n} entries in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        results = []
        for fmt in ("csv", "xlsx"):
            child = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_import", "--export-child", url, f"{tmp}/index",
                 tokens["office"], fmt], cwd=REPO_ROOT, capture_output=True, text=True, check=False,
                env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "KB_LOG_LEVEL": "WARNING"})
            if child.returncode != 0:
                raise SystemExit(f"export child failed:\n{child.stderr}")
            results.append({"entries": n, **json.loads(child.stdout.strip().splitlines()[-1])})
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--export-n", type=int, action="append")
    parser.add_argument("--export-child", nargs=4, metavar=("URL", "INDEX", "TOKEN", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        print(json.dumps(export_child(*args.export_child)))
        return
    facts = machine.facts()
    print(f"machine: {machine.machine_line(facts)}", file=sys.stderr)
    imported = bench_import(args.rows)
    print(f"import: {imported}", file=sys.stderr)
    exports = []
    for n in args.export_n or [10_000, 100_000]:
        exports += bench_export(n)
        print(f"export: {exports[-2:]}", file=sys.stderr)
    out = REPO_ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "bench-import.json").write_text(json.dumps({"machine": facts, "import": imported, "export": exports},
                                                      ensure_ascii=False, indent=2))
    print(f"\n| import of {imported['rows']} rows ({imported['file_bytes'] // 1024} KB xlsx) | dry run "
          f"{imported['dry_run_s']} s | import {imported['import_s']} s |")
    print("\n| entries | format | time | size | peak memory growth | process peak |\n|---|---|---|---|---|---|")
    for e in exports:
        print(f"| {e['entries']:,} | {e['format']} | {e['seconds']} s | {e['bytes'] / 1e6:.1f} MB | "
              f"{e['rss_growth_mb']} MB | {e['rss_peak_mb']} MB |")


if __name__ == "__main__":
    main()
