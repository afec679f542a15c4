"""The search log is kept KB_SEARCH_LOG_RETENTION_DAYS; the purge_search_log job deletes older rows."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kb import jobs
from kb.jobs import JobContext
from kb.models import SearchLog
from service import config
from service import jobs as service_jobs
from tests.support.factories import World


@pytest.fixture
def world(session_factory, clock):
    return World(session_factory, clock)


def _log(session_factory, at, query="华山街道居住证"):
    with session_factory() as s:
        s.add(SearchLog(search_key=uuid.uuid4().hex, searched_at=at, query=query, query_key=query, mode="query",
                        filters={}, result_count=0, top_entry_ids=[], latency_ms=1.0))
        s.commit()


def _count(session_factory) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(SearchLog))


def test_rows_past_the_retention_are_purged_and_a_rerun_does_nothing(world, session_factory, clock, monkeypatch):
    now = clock()
    for days in (400, 181, 179, 1):
        _log(session_factory, now - timedelta(days=days))
    context = JobContext(world.uow, clock, batch_size=1)
    monkeypatch.delenv("KB_SEARCH_LOG_RETENTION_DAYS", raising=False)  # the default: 180 days
    first = jobs.run_job("purge_search_log", context, registry=service_jobs.JOBS)
    assert first.counts == {"purged": 2, "retention_days": 180} and _count(session_factory) == 2
    assert jobs.run_job("purge_search_log", context, registry=service_jobs.JOBS).counts["purged"] == 0
    monkeypatch.setenv("KB_SEARCH_LOG_RETENTION_DAYS", "0")  # keep forever
    assert jobs.run_job("purge_search_log", context, registry=service_jobs.JOBS).counts["purged"] == 0
    monkeypatch.setenv("KB_SEARCH_LOG_RETENTION_DAYS", "30")
    assert jobs.run_job("purge_search_log", context, registry=service_jobs.JOBS).counts["purged"] == 1
    assert _count(session_factory) == 1


@pytest.mark.parametrize("raw", ["-1", "ten", "1.5"])
def test_a_bad_retention_setting_is_refused(raw):
    with pytest.raises(ValueError, match="KB_SEARCH_LOG_RETENTION_DAYS"):
        config.search_log_retention_days(raw)
