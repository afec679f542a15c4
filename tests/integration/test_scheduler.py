"""One scheduler at a time: the database lease keeps every other process on standby.

These tests need real commits and several connections, so they use a
database of their own (`committed_database_url`), on SQLite and PostgreSQL.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kb import jobs
from kb.db import UnitOfWork, make_engine, make_session_factory
from kb.models import JobRun
from kb.services.tasks import DEFAULT_SETTINGS
from service.cli import main
from service.context import system_clock
from service.jobs import Scheduler


class Process:
    """What one scheduler process has: its own engine and units of work."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.factory = make_session_factory(self.engine)

    def uow(self):
        return UnitOfWork(self.factory)

    def scheduler(self, **kwargs) -> Scheduler:
        return Scheduler(self.engine, self.uow, system_clock, DEFAULT_SETTINGS, **kwargs)

    def close(self):
        self.engine.dispose()


@pytest.fixture
def processes(committed_database_url):
    made = []

    def make():
        made.append(Process(committed_database_url))
        return made[-1]

    yield make
    for process in made:
        process.close()


def runs(process) -> list[tuple[str, str]]:
    with process.uow() as uow:
        return [(r.holder, r.outcome) for r in uow.session.scalars(select(JobRun).order_by(JobRun.id))]


def test_a_second_scheduler_stays_idle_while_the_first_holds_the_lease_then_takes_over(processes):
    first, second = processes(), processes()
    a, b = first.scheduler(), second.scheduler()
    assert a.run_if_leader("mark_overdue").outcome == "ok"
    assert b.run_if_leader("mark_overdue") is None
    assert b.run_if_leader("remind_due_soon") is None
    assert a.run_if_leader("remind_due_soon").outcome == "ok"
    assert {holder for holder, _ in runs(first)} == {a.holder}

    a.shutdown()  # a clean stop hands the lease over at once
    assert b.run_if_leader("mark_overdue").outcome == "ok"
    assert a.run_if_leader("mark_overdue") is None
    b.shutdown()


def test_schedulers_racing_for_the_lease_never_run_jobs_side_by_side(processes):
    schedulers = [processes().scheduler() for _ in range(3)]
    start = threading.Barrier(len(schedulers))
    results: dict[str, list] = {s.holder: [] for s in schedulers}

    def tick(s):
        start.wait()
        for _ in range(4):
            results[s.holder].append(s.run_if_leader("mark_overdue"))

    threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ran = {holder for holder, outcomes in results.items() if any(outcomes)}
    assert len(ran) == 1
    assert all(o is None for holder, outcomes in results.items() if holder not in ran for o in outcomes)
    for s in schedulers:
        s.shutdown()


def test_a_lease_row_lapses_when_its_holder_stops_renewing_it(processes):
    process = processes()
    now = [datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)]
    clock = lambda: now[0]  # noqa: E731
    a = jobs.RowLease(process.uow, "host-a:1", timedelta(seconds=90), clock)
    b = jobs.RowLease(process.uow, "host-b:2", timedelta(seconds=90), clock)
    assert a.acquire() and not b.acquire()
    now[0] += timedelta(seconds=60)
    assert a.acquire() and not b.acquire()  # renewed
    now[0] += timedelta(seconds=91)  # host a is gone
    assert b.acquire() and not a.acquire() and not a.held
    b.release()
    assert a.acquire()


def test_on_postgresql_the_lock_is_freed_the_moment_the_holders_connection_dies(processes, committed_database_url):
    if not committed_database_url.startswith("postgresql"):
        pytest.skip("advisory locks are PostgreSQL's; SQLite uses the lease row")
    first, second = processes(), processes()
    a, b = jobs.AdvisoryLease(first.engine), jobs.AdvisoryLease(second.engine)
    assert a.acquire() and not b.acquire()
    first.engine.dispose()
    a._conn.invalidate()  # the process died: its connection, and the lock with it, are gone
    assert b.acquire()
    b.release()


def test_web_workers_started_with_the_scheduler_agree_on_one_leader(committed_database_url, tmp_path):
    from service.app import create_app

    apps = [create_app({"DATABASE_URL": committed_database_url, "INDEX_DIR": str(tmp_path / f"index{i}"),
                        "RUN_SCHEDULER": True, "SEARCH_OPEN_ON_STARTUP": False, "SCHEDULER_LEASE_SECONDS": 15})
            for i in range(2)]
    schedulers = [app.extensions["kb.scheduler"] for app in apps]
    try:
        deadline = time.monotonic() + 10
        while not any(s.lease.held for s in schedulers) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        assert sum(s.lease.held for s in schedulers) == 1
    finally:
        for s in schedulers:
            s.shutdown()
        for app in apps:
            app.extensions["kb"].engine.dispose()


def run(url, *args):
    result = CliRunner().invoke(main, list(args), env={"KB_DATABASE_URL": url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_command_line_runs_a_job_and_keeps_the_calendar(committed_database_url):
    run(committed_database_url, "migrate")
    result = json.loads(run(committed_database_url, "run-job", "mark_overdue"))
    assert result["outcome"] == "ok" and result["counts"] == {"marked": 0} and result["trigger"] == "command"
    override = json.loads(run(committed_database_url, "calendar", "override", "2027-01-01", "holiday",
                              "--note", "元旦"))
    assert override["kind"] == "holiday" and override["recomputed_task_ids"] == []
    confirmed = json.loads(run(committed_database_url, "calendar", "confirm-year", "2027"))
    assert confirmed["year"] == 2027 and confirmed["overrides"] == 1
    run(committed_database_url, "calendar", "override", "2028-02-05", "working_day")
    listed = json.loads(run(committed_database_url, "calendar", "list", "--year", "2027"))
    assert [(o["date"], o["kind"], o["note"]) for o in listed["overrides"]] == [("2027-01-01", "holiday", "元旦")]
    assert [y["year"] for y in listed["confirmed_years"]] == [2027]
    deleted = json.loads(run(committed_database_url, "calendar", "delete", "2027-01-01"))
    assert deleted["date"] == "2027-01-01"
    listed = json.loads(run(committed_database_url, "calendar", "list"))
    assert [o["date"] for o in listed["overrides"]] == ["2028-02-05"]
    again = CliRunner().invoke(main, ["calendar", "delete", "2027-01-01"],
                               env={"KB_DATABASE_URL": committed_database_url})
    assert again.exit_code != 0 and "没有调整记录" in again.output
    bad = CliRunner().invoke(main, ["run-job", "nonsense"], env={"KB_DATABASE_URL": committed_database_url})
    assert bad.exit_code != 0


def test_the_command_line_offers_every_job():
    from service.jobs import JOBS, SCHEDULE

    command = main.commands["run-job"]
    assert set(command.params[0].type.choices) == set(JOBS) == set(SCHEDULE)
    assert set(jobs.JOBS) <= set(JOBS)


def test_the_scheduler_refuses_a_bad_webhook_allow_list_at_startup(committed_database_url):
    # A process of its own, with a timeout: a scheduler that started anyway would run until stopped.
    env = {**os.environ, "KB_DATABASE_URL": committed_database_url, "KB_WEBHOOK_ALLOWED_HOSTS": "10.0.0.0/33"}
    result = subprocess.run([sys.executable, "-c", "from service.cli import main; main()", "scheduler"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "KB_WEBHOOK_ALLOWED_HOSTS" in result.stderr


def test_the_switch_of_future_dated_versions_is_scheduled_for_the_second_the_day_begins_in_shanghai(processes):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from service.jobs import AT_DAY_START

    shanghai = ZoneInfo("Asia/Shanghai")
    scheduler = processes().scheduler(holder="day-start")
    scheduler.start()
    try:
        job = scheduler._scheduler.get_job("switch_scheduled_versions@day-start")
        assert "switch_scheduled_versions" in AT_DAY_START and job is not None
        fires = job.next_run_time.astimezone(shanghai)
        now = datetime.now(shanghai)
        assert (fires.hour, fires.minute, fires.second, fires.microsecond) == (0, 0, 0, 0)
        assert timedelta(0) < fires - now <= timedelta(days=1)  # the next day boundary, not a later one
        after = job.trigger.get_next_fire_time(fires, fires + timedelta(microseconds=1))
        assert after - fires == timedelta(days=1)  # and every one after it
    finally:
        scheduler.shutdown()
