"""The monthly close runs under the scheduler like every job: once per month, however often it reruns."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from kb import jobs
from kb.jobs import JobContext
from kb.models import ComplianceSnapshot, JobRun, WebhookDelivery
from kb.services import webhooks
from service import jobs as service_jobs
from tests.support.factories import World


@pytest.fixture
def world(session_factory, clock):
    return World(session_factory, clock)


def _count(session_factory, model, *where) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_the_close_job_freezes_last_month_once_and_announces_it_once(world, clock, session_factory, secret_box):
    cats = world.seed_categories()
    unit = world.make_unit("HX", "华山街道办事处", "town")
    office, _ = world.make_user("office_admin")
    maint, _ = world.make_user("maintainer", unit)
    rev, _ = world.make_user("unit_reviewer", unit)
    clock.set("2026-10-20T10:00:00+08:00")
    world.publish_new(maint, rev, office, cats["社会民生"], question="华山街道如何办理居住证？")
    webhooks.create_subscription(world.uow(), office, url="http://127.0.0.1:9/hook", events=["period.closed"],
                                 now=clock(), receiver_hosts=webhooks.ReceiverHosts.parse("127.0.0.1"),
                                 secret_box=secret_box)
    context = JobContext(uow_factory=world.uow, clock=clock)

    clock.set("2026-11-01T00:30:00+08:00")
    first = jobs.run_job("close_month", context, trigger="scheduler", registry=service_jobs.JOBS)
    assert first.outcome == "ok" and first.counts["period"] == "2026-10"
    clock.set("2026-11-01T01:30:00+08:00")
    second = jobs.run_job("close_month", context, trigger="scheduler", registry=service_jobs.JOBS)
    assert second.counts == {"period": "2026-10", "frozen": 0, "announced": False, "deliveries": 0}

    frozen = _count(session_factory, ComplianceSnapshot, ComplianceSnapshot.period_label == "2026-10")
    assert frozen >= 1  # one per unit and set of deadlines
    with session_factory() as s:
        [delivery] = s.scalars(select(WebhookDelivery).where(WebhookDelivery.event == "period.closed")).all()
        body = json.loads(delivery.body)
    assert body["data"]["period"]["label"] == "2026-10"
    assert [u["unit_code"] for u in body["data"]["units"]] == ["HX"]
    assert body["data"]["units"][0]["uploads_qa"] == 1
    assert _count(session_factory, JobRun, JobRun.job == "close_month", JobRun.outcome == "ok") == 2


def test_the_close_job_is_on_the_schedule():
    assert "close_month" in service_jobs.SCHEDULE and "close_month" in service_jobs.JOBS
