"""Webhook deliveries end to end: the outbox rows, the dispatcher, real receivers on 127.0.0.1, the real database."""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

import pytest
import requests
from sqlalchemy import func, select

from kb import jobs
from kb.calendar import to_shanghai
from kb.errors import InvalidTransition
from kb.jobs import JobContext
from kb.models import JobRun, WebhookDelivery
from kb.sealing import SecretBox, new_key
from kb.services import tasks, webhooks
from scoring_hooks import webhooks as dispatcher
from scoring_hooks.webhooks import deliver_due, post_delivery, verify
from tests.scoring.test_webhooks import http_receiver
from tests.support.factories import World

SECRET = "whsec-南康-0001-足够长的密钥"
SECRET_BOX = SecretBox.from_setting(os.environ["KB_SECRETS_KEY"])  # tests/conftest.py sets it for the run


class ScriptedReceiver(BaseHTTPRequestHandler):
    """Answers the statuses in `server.script` in turn, then 200; keeps what came, when, and whether it verified."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server = self.server
        with server.lock:
            server.attempts.append({"headers": dict(self.headers), "body": body, "at": time.monotonic()})
            status = server.script.pop(0) if getattr(server, "script", None) else 200
            if status == 200:
                valid = verify(SECRET, body, self.headers["X-KB-Timestamp"], self.headers["X-KB-Signature"])
                status = 200 if valid else 401
                if valid:
                    server.accepted.append((self.headers["X-KB-Delivery"], body))
        text = b"ok" if status == 200 else b"not now"
        self.send_response(status)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format, *args):
        pass


def loopback_post(timeout=(2, 2)):
    """post_delivery with its own proxy-free session per attempt (the dispatcher calls it from several threads)."""
    def post(url, event, delivery_id, body, secret, **kwargs):
        with requests.Session() as session:
            session.trust_env = False
            return post_delivery(url, event, delivery_id, body, secret, timeout=timeout, session=session, **kwargs)
    return post


LOOPBACK = webhooks.ReceiverHosts.parse("127.0.0.1, *.example.cn")  # the receivers here: loopback only when listed


@pytest.fixture
def world(session_factory, clock):
    return World(session_factory, clock)


@pytest.fixture
def office(world):
    return world.make_user("office_admin")[0]


@pytest.fixture
def subscribe(world, office, clock):
    def make(url, events=("score.changed",), **kwargs):
        kwargs.setdefault("receiver_hosts", LOOPBACK)
        return webhooks.create_subscription(world.uow(), office, url=url, events=list(events), secret=SECRET,
                                            now=clock(), secret_box=SECRET_BOX, **kwargs)
    return make


def emit(world, clock, event="score.changed", data=None, *, commit=True) -> list[int]:
    with world.uow() as uow:
        ids = webhooks.enqueue(uow.session, event, data or {"profile": "nankang-2023", "unit_code": "HX"}, clock())
        if commit:
            uow.commit()
    return ids


def deliver(world, clock, **kwargs):
    kwargs.setdefault("post", loopback_post())
    kwargs.setdefault("secret_box", SECRET_BOX)
    return deliver_due(world.uow, clock, **kwargs)


def log_of(world, office, delivery_id):
    return webhooks.get_delivery(world.uow(write=False), office, delivery_id)


def test_a_receiver_failing_twice_gets_exactly_one_accepted_signed_delivery_after_the_backoff(
        world, office, clock, subscribe):
    with http_receiver(ScriptedReceiver) as (server, url):
        server.script = [500, 500]
        subscribe(url)
        [delivery_id] = emit(world, clock, data={"unit_code": "HX", "points": 18.5, "单位": "华山街道"})

        assert deliver(world, clock) == {"claimed": 1, "delivered": 0, "retrying": 1, "failed": 0, "unrecorded": 0}
        assert deliver(world, clock)["claimed"] == 0  # waiting 30 s
        clock.at += timedelta(seconds=29)
        assert deliver(world, clock)["claimed"] == 0
        clock.at += timedelta(seconds=2)
        assert deliver(world, clock)["retrying"] == 1  # second 500; now 60 s
        clock.at += timedelta(seconds=59)
        assert deliver(world, clock)["claimed"] == 0
        clock.at += timedelta(seconds=2)
        assert deliver(world, clock)["delivered"] == 1
        clock.at += timedelta(days=1)
        assert deliver(world, clock)["claimed"] == 0

    record = log_of(world, office, delivery_id)
    assert len(server.attempts) == 3 and len(server.accepted) == 1
    key, body = server.accepted[0]
    assert key == record.delivery_key and {a["headers"]["X-KB-Delivery"] for a in server.attempts} == {key}
    last = server.attempts[-1]["headers"]
    assert verify(SECRET, body, last["X-KB-Timestamp"], last["X-KB-Signature"])
    assert body.decode() == record.body
    payload = json.loads(body)
    assert payload["event"] == "score.changed" and payload["data"]["单位"] == "华山街道"
    assert record.state == "delivered" and record.attempts == 3 and record.last_status == 200
    assert [(a.number, a.ok, a.status, a.replay) for a in record.attempt_log] == [
        (1, False, 500, False), (2, False, 500, False), (3, True, 200, False)]
    assert record.attempt_log[0].error == "HTTP 500: not now"


def test_a_receiver_that_never_answers_does_not_hold_up_another_subscriptions_delivery(
        world, office, clock, subscribe, monkeypatch):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    stop, held = threading.Event(), []

    def accept_and_stay_silent():
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        held.append(conn)
        stop.wait(10)
        conn.close()

    silent = threading.Thread(target=accept_and_stay_silent, daemon=True)
    silent.start()
    recorded = {}
    record_attempt = dispatcher.compliance.record_attempt

    def timed_record(uow_factory, delivery_id, **kwargs):
        recorded[delivery_id] = time.monotonic()
        return record_attempt(uow_factory, delivery_id, **kwargs)

    monkeypatch.setattr(dispatcher.compliance, "record_attempt", timed_record)
    read_timeout = 1.5
    try:
        with http_receiver(ScriptedReceiver) as (server, good_url):
            slow = subscribe(f"http://127.0.0.1:{listener.getsockname()[1]}/hooks")
            good = subscribe(good_url)
            emit(world, clock)
            started = time.monotonic()
            counts = deliver(world, clock, post=loopback_post(timeout=(1, read_timeout)))
            elapsed = time.monotonic() - started
    finally:
        stop.set()
        listener.close()
        silent.join(5)

    assert counts == {"claimed": 2, "delivered": 1, "retrying": 1, "failed": 0, "unrecorded": 0}
    assert len(server.accepted) == 1
    got_at = server.attempts[0]["at"] - started
    deliveries = {d.subscription_id: d for d in webhooks.list_deliveries(world.uow(write=False), office)[1]}
    assert got_at < read_timeout / 2, got_at  # received while the silent receiver was still being waited on
    assert recorded[deliveries[good.id].id] - started < read_timeout  # and recorded before its timeout
    assert recorded[deliveries[slow.id].id] - started >= read_timeout
    assert elapsed < read_timeout + 1.5  # side by side, not one after the other
    assert deliveries[good.id].state == "delivered"
    assert deliveries[slow.id].state == "pending" and deliveries[slow.id].last_error.startswith("timeout")


def test_410_gone_is_not_retried(world, office, clock, subscribe):
    with http_receiver(ScriptedReceiver) as (server, url):
        server.script = [410]
        subscribe(url)
        [delivery_id] = emit(world, clock)
        assert deliver(world, clock)["failed"] == 1
        clock.at += timedelta(days=2)
        assert deliver(world, clock)["claimed"] == 0
    record = log_of(world, office, delivery_id)
    assert (record.state, record.attempts, record.last_status, record.next_attempt_at) == (
        "failed", 1, 410, None)
    assert len(server.attempts) == 1


def test_the_last_attempt_fails_the_delivery(world, office, clock, subscribe):
    with http_receiver(ScriptedReceiver) as (server, url):
        server.script = [503] * 8
        subscribe(url)
        [delivery_id] = emit(world, clock)
        for _ in range(8):
            deliver(world, clock)
            clock.at += timedelta(hours=7)  # past any backoff
        assert deliver(world, clock)["claimed"] == 0
    record = log_of(world, office, delivery_id)
    assert record.state == "failed" and record.attempts == 8 and len(server.attempts) == 8


def test_a_replay_resends_the_same_delivery_and_is_logged_as_a_replay(world, office, clock, subscribe):
    with http_receiver(ScriptedReceiver) as (server, url):
        sub = subscribe(url)
        [delivery_id] = emit(world, clock)
        assert deliver(world, clock)["delivered"] == 1
        clock.at += timedelta(hours=1)
        replayed = webhooks.replay_delivery(world.uow(), office, delivery_id, now=clock())
        assert replayed.state == "pending" and replayed.replay_requested_at
        assert deliver(world, clock)["delivered"] == 1
        assert deliver(world, clock)["claimed"] == 0

        webhooks.delete_subscription(world.uow(), office, sub.id, now=clock())
        with pytest.raises(InvalidTransition):
            webhooks.replay_delivery(world.uow(), office, delivery_id, now=clock())

    record = log_of(world, office, delivery_id)
    assert [(a.number, a.ok, a.replay) for a in record.attempt_log] == [(1, True, False), (2, True, True)]
    assert record.state == "delivered" and record.replay_requested_at is None
    first, second = server.accepted
    assert first == second and first[0] == record.delivery_key  # same X-KB-Delivery, same body


def test_a_failed_delivery_replayed_is_tried_once_more_and_retried_on_the_schedule(world, office, clock, subscribe):
    with http_receiver(ScriptedReceiver) as (server, url):
        server.script = [410, 500]
        subscribe(url)
        [delivery_id] = emit(world, clock)
        deliver(world, clock)
        webhooks.replay_delivery(world.uow(), office, delivery_id, now=clock())
        assert deliver(world, clock)["retrying"] == 1
        clock.at += timedelta(seconds=61)  # after attempt 2, the wait is 60 s
        assert deliver(world, clock)["delivered"] == 1
    assert [(a.number, a.status, a.replay) for a in log_of(world, office, delivery_id).attempt_log] == [
        (1, 410, False), (2, 500, True), (3, 200, False)]


def test_an_event_enqueued_in_a_rolled_back_transaction_sends_nothing(world, office, clock, subscribe,
                                                                      session_factory):
    with http_receiver(ScriptedReceiver) as (server, url):
        subscribe(url)
        assert len(emit(world, clock, commit=False)) == 1
        assert deliver(world, clock)["claimed"] == 0
    assert server.attempts == []
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_only_active_subscriptions_to_the_event_get_a_delivery(world, office, clock, subscribe):
    wanted = subscribe("https://scoring.example.cn/hooks", events=("score.changed", "period.closed"))
    subscribe("https://other.example.cn/hooks", events=("task.overdue",))
    paused = subscribe("https://paused.example.cn/hooks")
    webhooks.update_subscription(world.uow(), office, paused.id, now=clock(), fields={"active": False},
                                 secret_box=SECRET_BOX)
    ids = emit(world, clock)
    deliveries = webhooks.list_deliveries(world.uow(write=False), office)[1]
    assert [d.id for d in deliveries] == ids and deliveries[0].subscription_id == wanted.id
    with pytest.raises(ValueError):
        emit(world, clock, event="score.published")


def test_a_dispatcher_that_dies_mid_post_only_delays_the_delivery(world, office, clock, subscribe):
    with http_receiver(ScriptedReceiver) as (server, url):
        subscribe(url)
        [delivery_id] = emit(world, clock)
        [claimed] = webhooks.claim_due_deliveries(world.uow, clock(), secret_box=SECRET_BOX,
                                                      claim_seconds=120)  # ...and the process dies
        assert claimed.id == delivery_id and claimed.attempt_number == 1 and not claimed.replay
        assert deliver(world, clock)["claimed"] == 0
        clock.at += timedelta(seconds=121)
        assert deliver(world, clock)["delivered"] == 1
    assert len(server.accepted) == 1


def test_task_overdue_is_enqueued_once_however_often_the_overdue_job_runs(world, office, clock, subscribe,
                                                                         session_factory):
    from service.jobs import JOBS

    unit = world.make_unit("HX", "华山街道办事处", "town")
    task = tasks.create_task(world.uow(), office, source="city_notice", unit_code=unit.code,
                             detail="市级通知：更新办理地点", now=clock())
    context = JobContext(uow_factory=world.uow, clock=clock)
    with http_receiver(ScriptedReceiver) as (server, url):
        subscribe(url, events=("task.overdue",))
        clock.set("2026-12-01T10:00:00+08:00")
        assert jobs.mark_overdue(context) == {"marked": 1}
        assert jobs.mark_overdue(context) == {"marked": 0}
        assert jobs.run_job("mark_overdue", context).counts == {"marked": 0}
        monkeypatched = dict(JOBS)
        monkeypatched["deliver_webhooks"] = lambda ctx: deliver(world, ctx.clock)
        run = jobs.run_job("deliver_webhooks", context, registry=monkeypatched)
        assert run.outcome == "ok" and run.counts["delivered"] == 1
        assert jobs.run_job("deliver_webhooks", context, registry=JOBS).counts["claimed"] == 0
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(WebhookDelivery)
                        .where(WebhookDelivery.event == "task.overdue")) == 1
        assert s.scalar(select(func.count()).select_from(JobRun).where(JobRun.job == "deliver_webhooks")) == 2
    [(_, body)] = server.accepted
    payload = json.loads(body)
    assert payload["event"] == "task.overdue" and payload["occurred_at"].startswith("2026-12-01T10:00:00")
    assert payload["data"]["task_id"] == task.id and payload["data"]["unit_code"] == "HX"
    assert payload["data"]["due_at"] == to_shanghai(task.due_at).isoformat() and payload["data"]["source"] == "city_notice"


def test_a_host_the_allow_list_no_longer_holds_gets_nothing_and_the_delivery_waits(
        world, office, clock, subscribe, monkeypatch):
    from service import jobs as service_jobs
    from service.jobs import correction_settings

    with http_receiver(ScriptedReceiver) as (server, url):
        subscribe(url)  # 127.0.0.1, subscribed while any host was allowed
        [delivery_id] = emit(world, clock)
        narrowed = webhooks.ReceiverHosts.parse("scoring.example.cn")
        assert deliver(world, clock, allows=narrowed.allows) == {
            "claimed": 1, "delivered": 0, "retrying": 1, "failed": 0, "unrecorded": 0}
        record = log_of(world, office, delivery_id)
        assert server.attempts == []
        assert record.state == "pending" and record.attempt_log[0].error == dispatcher.NOT_ALLOWED

        clock.at += timedelta(seconds=31)  # the job reads the allow-list the service runs with
        monkeypatch.setenv("KB_WEBHOOK_ALLOWED_HOSTS", "scoring.example.cn")
        monkeypatch.setattr(service_jobs.webhooks, "post_delivery", loopback_post())
        context = JobContext(world.uow, clock, correction_settings({}))
        assert service_jobs.deliver_webhooks(context)["retrying"] == 1 and server.attempts == []

        clock.at += timedelta(seconds=61)  # allowed again: delivered on its next retry
        monkeypatch.setenv("KB_WEBHOOK_ALLOWED_HOSTS", "127.0.0.0/8")
        assert service_jobs.deliver_webhooks(context)["delivered"] == 1
    assert len(server.accepted) == 1 and log_of(world, office, delivery_id).state == "delivered"


def test_a_secret_the_services_key_cannot_open_sends_nothing_and_waits_for_the_right_key(
        world, office, clock, subscribe):
    """KB_SECRETS_KEY changed without resealing: nothing goes out unsigned or wrongly signed, nothing is lost."""
    with http_receiver(ScriptedReceiver) as (server, url):
        subscribe(url)
        [delivery_id] = emit(world, clock)
        other_key = SecretBox([new_key()])
        assert deliver(world, clock, secret_box=other_key)["retrying"] == 1
        assert server.attempts == []
        assert log_of(world, office, delivery_id).attempt_log[0].error == dispatcher.UNREADABLE_SECRET

        clock.at += timedelta(seconds=31)  # the old key listed again (after the new one): sent on the next retry
        both = SecretBox([new_key(), os.environ["KB_SECRETS_KEY"]])
        assert deliver(world, clock, secret_box=both)["delivered"] == 1
    assert len(server.accepted) == 1  # signed with the subscription's own secret: the receiver verified it
