"""Webhooks go only where the deployment allows: the URL is checked when subscribed, the address when sent."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kb.errors import ValidationFailed
from kb.jobs import JobContext
from kb.services import webhooks
from scoring_hooks import receiver_guard
from scoring_hooks.webhooks import post_delivery
from tests.scoring.test_webhook_deliveries import (  # noqa: F401, F811 (fixtures)
    LOOPBACK, SECRET, SECRET_BOX, ScriptedReceiver, deliver, emit, log_of, office, subscribe, world)
from tests.scoring.test_webhooks import http_receiver


def test_the_backslash_url_of_issue_18_is_refused_at_subscription(world, office, clock):
    with pytest.raises(ValidationFailed) as refused:
        webhooks.create_subscription(world.uow(), office, url="http://127.0.0.1:8209\\@allowed.host/",
                                     events=["score.changed"], now=clock(), secret_box=SECRET_BOX,
                                     receiver_hosts=webhooks.ReceiverHosts.parse("allowed.host"))
    assert "反斜杠" in refused.value.errors["url"]


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/",
                                 "http://[fd00:ec2::254]/", "http://127.1:9000/", "http://0x7f000001/",
                                 "http://2130706433/", "http://10.0.0.8/"])
def test_with_nothing_listed_loopback_metadata_and_private_receivers_are_refused(world, office, clock, url):
    with pytest.raises(ValidationFailed):
        webhooks.create_subscription(world.uow(), office, url=url, events=["score.changed"], now=clock(),
                                     secret_box=SECRET_BOX)


def test_the_connection_check_refuses_a_loopback_address_before_anything_is_sent():
    with http_receiver(ScriptedReceiver) as (server, url):
        for hosts in (None, "localhost"):  # nothing listed; a listed name that resolves to loopback
            check = webhooks.ReceiverHosts.parse(hosts).connection_allowed
            target = url if hosts is None else url.replace("127.0.0.1", "localhost")
            outcome = post_delivery(target, "score.changed", "d-1", b"{}", SECRET, timeout=(2, 2),
                                    connection_allowed=check)
            assert not outcome.ok and receiver_guard.REFUSED in outcome.error, outcome
        assert server.attempts == []
        listed = post_delivery(url, "score.changed", "d-2", b"{}", SECRET, timeout=(2, 2),
                               connection_allowed=LOOPBACK.connection_allowed)
        assert listed.ok and len(server.attempts) == 1


def test_the_webhook_job_checks_where_each_delivery_connects(world, office, clock, subscribe, monkeypatch):
    """Subscribed while 127.0.0.1 was listed, then the list changes: the job refuses at the connection."""
    from service import jobs as service_jobs
    from service.jobs import correction_settings

    with http_receiver(ScriptedReceiver) as (server, url):
        subscribe(url)
        [delivery_id] = emit(world, clock)
        context = JobContext(world.uow, clock, correction_settings({}))
        monkeypatch.delenv("KB_WEBHOOK_ALLOWED_HOSTS", raising=False)
        assert service_jobs.deliver_webhooks(context)["retrying"] == 1 and server.attempts == []
        clock.at += timedelta(seconds=31)
        # the URL check alone would pass (a listed name); the connection to loopback does not
        monkeypatch.setattr(webhooks.ReceiverHosts, "allows", lambda self, u: True)
        assert service_jobs.deliver_webhooks(context)["retrying"] == 1 and server.attempts == []
        assert receiver_guard.REFUSED in log_of(world, office, delivery_id).attempt_log[-1].error
        clock.at += timedelta(seconds=61)
        monkeypatch.setenv("KB_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
        assert service_jobs.deliver_webhooks(context)["delivered"] == 1
    assert len(server.accepted) == 1
