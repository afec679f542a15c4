"""Compliance benchmark: counts and scores for many units over a year, and the monthly 通报.

Builds a SQLite (or, with ``--database-url``, PostgreSQL) knowledge base of U units (default 500) with
E published entries (default 200,000, each published through a change request on a day of the year),
T correction tasks (default 50,000: every source, on time, late, open and overdue, declined), a year of
verifications and usages, in bulk; then times, as the office:

- the compliance counts of one month and of the whole year (``kb.compliance.compliance_report``);
- the scores of every profile for that month (``scoring_hooks.scoring.score_report``);
- the monthly 通报: the month's and the month before's scores, ranked (``scoring_hooks.bulletin.rows``).

    python -m benchmarks.bench_compliance                      # 500 units, 200k entries, 50k tasks
    python -m benchmarks.bench_compliance --units 50 --entries 20000 --tasks 5000

Targets (issue: oversight): counts and scores ≤ 2 s, the 通报 ≤ 5 s. Results go to
``benchmarks/out/bench-compliance.json``; a markdown summary is printed.
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from benchmarks import machine

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("office_feedback", "operator_suggestion", "city_notice", "unit_self_found", "policy_change",
           "yearly_verification")


def build(url: str, units: int, entries: int, tasks: int, year: int, seed: int = 7) -> dict:
    from sqlalchemy import insert, select

    from kb.db import make_engine, make_session_factory
    from kb.migrate import upgrade
    from kb.models import (
        Category, ChangeRequest, CorrectionTask, KnowledgeEntry, KnowledgeUsage, KnowledgeVerification, KnowledgeVersion, Unit,
        User)
    from kb.services import categories

    rng = random.Random(seed)
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    start = datetime(year, 1, 1, tzinfo=timezone.utc)
    moment = lambda: start + timedelta(seconds=rng.randrange(0, 360 * 86400))  # noqa: E731
    with factory() as s:
        categories.seed_categories(s)
        s.flush()
        category_id = s.scalar(select(Category.id).limit(1))
        s.execute(insert(Unit), [{"id": u, "code": f"U{u:04d}", "name": f"承办单位{u:04d}", "kind": "department",
                                  "created_at": start - timedelta(days=400)} for u in range(1, units + 1)])
        s.execute(insert(User), [{"id": 1, "name": "bench-office", "role": "office_admin", "active": True,
                                  "created_at": start}])
        for lo in range(0, entries, 20_000):
            ids = range(lo + 1, min(entries, lo + 20_000) + 1)
            rows = [(i, 1 + i % units, moment()) for i in ids]
            s.execute(insert(KnowledgeEntry), [{"id": i, "unit_id": u, "status": "published", "published_number": 1,
                                                "created_at": at, "published_at": at} for i, u, at in rows])
            s.execute(insert(KnowledgeVersion), [
                {"entry_id": i, "number": 1, "question": f"问题{i}", "question_key": f"q{i}", "similar_questions": [],
                 "answer": "答案", "keywords": [], "category_id": category_id, "effective_on": date(year - 1, 1, 1),
                 "policy_attachments": 0, "urgent": False, "format": "qa", "created_at": at} for i, _, at in rows])
            s.execute(insert(ChangeRequest), [
                {"id": i, "kind": "new", "state": "published", "unit_id": u, "entry_id": i, "proposal": {},
                 "revision": 3, "created_by_id": 1, "created_at": at - timedelta(days=2), "updated_at": at,
                 "submitted_at": at - timedelta(days=1), "published_at": at, "published_number": 1,
                 "published_directly": False} for i, u, at in rows])
            s.execute(insert(KnowledgeVerification), [
                {"entry_id": i, "unit_id": u, "version": 1, "verified_at": at + timedelta(days=30), "verified_by_id": 1}
                for i, u, at in rows if i % 3 == 0])
            s.execute(insert(KnowledgeUsage), [
                {"entry_id": i, "version": 1, "unit_id": u, "used_at": at + timedelta(days=5), "user_id": 1,
                 "answered_directly": i % 4 != 0} for i, u, at in rows if i % 2 == 0])
        task_rows = []
        for t in range(1, tasks + 1):
            received = moment()
            due = received + timedelta(days=7)
            fate = rng.random()
            row = {"id": t, "unit_id": 1 + t % units, "entry_id": 1 + t % entries, "source": SOURCES[t % len(SOURCES)],
                   "reason": "incomplete" if t % len(SOURCES) == 0 else None, "detail": "请更新", "received_at": received,
                   "due_at": due, "provisional": False, "working_days": 5, "created_at": received,
                   "updated_at": received}
            if row["source"] == "yearly_verification":
                row.update(cycle_starts_on=date(year, 1, 1), cycle_ends_on=date(year, 12, 31))
            if fate < 0.6:
                row.update(state="resolved", resolved_at=received + timedelta(days=3), on_time=True, resolved_version=1)
            elif fate < 0.8:
                row.update(state="resolved", resolved_at=due + timedelta(days=3), on_time=False, resolved_version=1,
                           overdue_marked_at=due)
            elif fate < 0.9:
                row.update(state="open", overdue_marked_at=due)
            else:
                row.update(state="declined", declined_at=received + timedelta(days=2))
            task_rows.append(row)
            if len(task_rows) == 10_000:
                s.execute(insert(CorrectionTask), task_rows)
                task_rows = []
        if task_rows:
            s.execute(insert(CorrectionTask), task_rows)
        s.commit()
    engine.dispose()
    return {"units": units, "entries": entries, "tasks": tasks, "year": year}


def _timed(samples: int, work) -> tuple[float, object]:
    best, result = None, None
    for _ in range(samples):
        started = time.perf_counter()
        result = work()
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
    return round(best, 3), result


def measure(url: str, year: int, repeat: int) -> dict:
    from kb import compliance
    from kb.access import Actor
    from kb.db import UnitOfWork, make_engine, make_session_factory
    from kb.models import Role
    from scoring_hooks import bulletin
    from scoring_hooks.profiles import load_profiles
    from scoring_hooks.scoring import score_report

    engine = make_engine(url)
    factory = make_session_factory(engine)
    office = Actor(user_id=1, role=Role.OFFICE_ADMIN)
    now = datetime(year + 1, 1, 15, tzinfo=timezone.utc)
    month, before = compliance.Period.parse(f"{year}-11"), compliance.Period.parse(f"{year}-10")

    def report(period, deadlines=None):
        return compliance.compliance_report(UnitOfWork(factory, write=False), office, period, now=now,
                                            deadlines=deadlines)

    figures: dict = {}
    figures["counts_month_s"], month_report = _timed(repeat, lambda: report(month))
    figures["counts_year_s"], _ = _timed(repeat, lambda: report(compliance.Period.parse(str(year))))
    for name, profile in load_profiles().items():
        deadlines = profile.task_deadlines(None)
        figures[f"counts_and_scores_month_{name}_s"], _ = _timed(
            repeat, lambda profile=profile, deadlines=deadlines: score_report(profile, report(month, deadlines)))
    profile = load_profiles()["licheng"]

    def monthly_bulletin():
        deadlines = profile.task_deadlines(None)
        now_report = report(month, deadlines)
        return bulletin.rows(score_report(profile, now_report), now_report,
                             score_report(profile, report(before, deadlines)))

    figures["bulletin_s"], rows = _timed(repeat, monthly_bulletin)
    figures["bulletin_rows"] = len(rows)
    figures["units_counted"] = len(month_report.units)
    engine.dispose()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "out")
    args = parser.parse_args(argv)
    year = 2025
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='kb-bench-compliance-')) / 'kb.sqlite3'}"
    started = time.perf_counter()
    built = build(url, args.units, args.entries, args.tasks, year)
    report = {"built": built, "build_s": round(time.perf_counter() - started, 1), "database": url.split(":")[0],
              "date": time.strftime("%Y-%m-%d"), "machine": machine.facts(), "figures": measure(url, year, args.repeat)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-compliance.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"### Compliance at {args.units} units, {args.entries:,} entries, {args.tasks:,} tasks "
          f"({report['database']}; {machine.machine_line(report['machine'])})\n")
    print("| measure | seconds (best of %d) |\n|---|---|" % args.repeat)
    for key, value in report["figures"].items():
        print(f"| {key} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
