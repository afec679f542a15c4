"""A scheduler process killed (SIGKILL) in the middle of a job, then a new one: nothing twice, nothing lost.

The job is the yearly verification run over a few thousand entries, one
transaction per batch. The first scheduler is killed once some batches have
committed and before the last; the next scheduler takes the lease, records
the dead run as interrupted and finishes the job.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from kb.db import make_engine, make_session_factory
from kb.models import Category, CorrectionTask, JobRun, KnowledgeEntry, KnowledgeVersion, Unit
from kb.services.categories import seed_categories

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = 1500

# One scheduler process: the real Scheduler class, its lease and JobRun recording, a fixed clock
# (10 December: the yearly cycle ends within the 30-day lead, so verification tasks open).
SCHEDULER = """
import sys
from datetime import datetime, timedelta, timezone
from kb.db import UnitOfWork, make_engine, make_session_factory
from kb.services.tasks import CorrectionSettings
from service.jobs import Scheduler

engine = make_engine(sys.argv[1])
factory = make_session_factory(engine)
clock = lambda: datetime(2026, 12, 10, 2, 0, tzinfo=timezone.utc)
scheduler = Scheduler(engine, lambda: UnitOfWork(factory), clock, CorrectionSettings(),
                      lease_ttl=timedelta(seconds=2), holder=sys.argv[2])
print("started", flush=True)
print(scheduler.run_if_leader("open_verification_tasks"), flush=True)
"""

pytestmark = pytest.mark.slow


def _seed(url: str) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    long_ago = datetime(2025, 6, 2, 2, 0, tzinfo=timezone.utc)
    with factory() as s:
        seed_categories(s)
        s.flush()
        category_id = s.scalar(select(Category.id).where(Category.name == "社会民生"))
        unit = Unit(code="HX", name="华山街道办事处", kind="town", created_at=long_ago)
        s.add(unit)
        s.flush()
        s.execute(insert(KnowledgeEntry), [
            {"unit_id": unit.id, "status": "published", "published_number": 1, "created_at": long_ago,
             "published_at": long_ago} for _ in range(ENTRIES)])
        ids = s.scalars(select(KnowledgeEntry.id)).all()
        s.execute(insert(KnowledgeVersion), [
            {"entry_id": i, "number": 1, "question": f"问题{i}", "question_key": f"问题{i}", "similar_questions": [],
             "answer": "1. 办理地点：便民服务中心。", "keywords": [], "category_id": category_id,
             "policy_attachments": 0, "effective_on": long_ago.date(), "urgent": False, "format": "qa",
             "created_at": long_ago} for i in ids])
        s.commit()
    engine.dispose()


def _count(url: str, *columns_and_where):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(*columns_and_where).scalar()
    finally:
        engine.dispose()


def _scheduler(url: str, holder: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", SCHEDULER, url, holder], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_scheduler_killed_mid_job_and_restarted_leaves_no_duplicates(committed_database_url):
    url = committed_database_url
    _seed(url)
    tasks = select(func.count()).select_from(CorrectionTask)

    first = _scheduler(url, "host-a:1")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = _count(url, tasks)
        if done > 0 or first.poll() is not None:
            break
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    killed_at = _count(url, tasks)
    assert 0 < killed_at < ENTRIES, f"the kill should land mid-job (tasks at kill: {killed_at}); raise ENTRIES"
    assert _count(url, select(func.count()).select_from(JobRun).where(JobRun.outcome == "running")) == 1

    time.sleep(2.5)  # the dead scheduler's lease lapses (on PostgreSQL it went with its connection)
    second = _scheduler(url, "host-b:2")
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert "outcome='ok'" in out, out

    assert _count(url, tasks) == ENTRIES
    assert _count(url, select(func.count(func.distinct(CorrectionTask.entry_id)))) == ENTRIES
    runs = {outcome: n for outcome, n in _rows(url, select(JobRun.outcome, func.count()).group_by(JobRun.outcome))}
    assert runs == {"failed": 1, "ok": 1}  # the killed run is recorded as interrupted, not left running
    error = _count(url, select(JobRun.error).where(JobRun.outcome == "failed"))
    assert "interrupted" in error


def _rows(url, statement):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(statement).all()
    finally:
        engine.dispose()
