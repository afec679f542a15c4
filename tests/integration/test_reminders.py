"""Reminders reach people: a real SMTP server (aiosmtpd) and a group-robot receiver on loopback,
exactly once, with retries, per unit and per user preference, with a daily digest."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import urllib.parse
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from kb import jobs
from kb.services import oversight, tasks
from service import jobs as service_jobs
from tests.support.factories import ALL_CHECKS_PASS, World

SECRET = "SEC-robot-secret"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        self.messages.append({"to": envelope.rcpt_tos, "subject": str(make_header(decode_header(message["Subject"]))),
                              "body": message.get_payload(decode=True).decode("utf-8"),
                              "message_id": message["Message-ID"]})
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("KB_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("KB_SMTP_PORT", str(port))
    monkeypatch.setenv("KB_SMTP_FROM", "kb@hotline.example")
    yield inbox
    controller.stop()


class Robot:
    """A loopback stand-in for a DingTalk group robot: checks the signature, can refuse for a while."""

    def __init__(self):
        self.received, self.refuse = [], 0
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                timestamp, sign = query["timestamp"][0], query["sign"][0]
                expected = base64.b64encode(hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(),
                                                     hashlib.sha256).digest()).decode()
                if sign != expected:
                    answer = {"errcode": 310000, "errmsg": "sign not match"}
                elif robot.refuse:
                    robot.refuse -= 1
                    answer = {"errcode": 130101, "errmsg": "send too fast"}
                else:
                    robot.received.append(body["text"]["content"])
                    answer = {"errcode": 0, "errmsg": "ok"}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/robot/send?access_token=t1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.server.shutdown()


@pytest.fixture
def unit_hx(session_factory, clock):
    world = World(session_factory, clock)
    cats = world.seed_categories()
    unit = world.make_unit("HX", "华山街道办事处", "town")
    office, _ = world.make_user("office_admin")
    maint, _ = world.make_user("maintainer", unit)
    colleague, _ = world.make_user("maintainer", unit)
    rev, _ = world.make_user("unit_reviewer", unit)
    return type("HX", (), {"world": world, "cats": cats, "unit": unit, "office": office, "maint": maint,
                           "colleague": colleague, "rev": rev})


def _run(session_factory, clock):
    from kb.db import UnitOfWork

    ctx = jobs.JobContext(uow_factory=lambda write=True: UnitOfWork(session_factory, write=write), clock=clock)
    return service_jobs.notify(ctx)


def _task(hx, clock, detail="电话号码已变更"):
    return tasks.create_task(hx.world.uow(), hx.office, source="office_feedback", reason="incomplete",
                             detail=detail, now=clock(), unit_code="HX")


def test_a_new_task_reaches_the_units_people_by_mail_and_its_robot_once(session_factory, clock, smtp, robot, unit_hx,
                                                                       secret_box):
    hx = unit_hx
    _run(session_factory, clock)  # the notifier starts from now
    oversight.set_unit_robot(hx.world.uow(), hx.office, "HX", channel="dingtalk", url=robot.url, secret=SECRET,
                             now=clock(), secret_box=secret_box)
    oversight.set_contact(hx.world.uow(), hx.maint, email="maint@hx.example", notify=True, daily_digest=False,
                          now=clock())
    oversight.set_contact(hx.world.uow(), hx.colleague, email="quiet@hx.example", notify=False, daily_digest=False,
                          now=clock())
    task = _task(hx, clock)
    result = _run(session_factory, clock)
    assert result["sent"] == 2 and result["failed"] == 0
    assert [m["to"] for m in smtp.messages] == [["maint@hx.example"]]  # the colleague opted out
    assert "新任务" in smtp.messages[0]["subject"] and "电话号码已变更" in smtp.messages[0]["body"]
    assert f"/tasks/{task.id}" in smtp.messages[0]["body"]
    assert len(robot.received) == 1 and "华山街道办事处" in robot.received[0]
    assert _run(session_factory, clock)["sent"] == 0  # exactly once
    assert len(smtp.messages) == 1 and len(robot.received) == 1


def test_a_refusing_robot_is_retried_with_backoff_and_gets_the_message_once(session_factory, clock, smtp, robot,
                                                                           unit_hx, secret_box):
    hx = unit_hx
    _run(session_factory, clock)
    oversight.set_unit_robot(hx.world.uow(), hx.office, "HX", channel="dingtalk", url=robot.url, secret=SECRET,
                             now=clock(), secret_box=secret_box)
    robot.refuse = 2
    _task(hx, clock)
    assert _run(session_factory, clock)["failed"] == 1
    waiting = oversight.list_notifications(hx.world.uow(write=False), hx.office, waiting_only=True)
    assert waiting[0].attempts == 1 and "send too fast" in waiting[0].last_error
    assert _run(session_factory, clock)["sent"] == 0  # not due again before its backoff
    clock.at += timedelta(seconds=61)
    assert _run(session_factory, clock)["failed"] == 1
    clock.at += timedelta(seconds=301)
    assert _run(session_factory, clock)["sent"] == 1
    assert len(robot.received) == 1


def test_a_wrong_signature_is_refused_by_the_robot_and_kept_for_the_office(session_factory, clock, smtp, robot,
                                                                          unit_hx, secret_box):
    hx = unit_hx
    _run(session_factory, clock)
    oversight.set_unit_robot(hx.world.uow(), hx.office, "HX", channel="dingtalk", url=robot.url, secret="wrong",
                             now=clock(), secret_box=secret_box)
    _task(hx, clock)
    _run(session_factory, clock)
    assert robot.received == []
    [row] = oversight.list_notifications(hx.world.uow(write=False), hx.office, waiting_only=True)
    assert "sign not match" in row.last_error
    oversight.set_unit_robot(hx.world.uow(), hx.office, "HX", channel="dingtalk", url=robot.url, secret=SECRET,
                             now=clock(), secret_box=secret_box)
    oversight.replay(hx.world.uow(), hx.office, row.id, now=clock())
    assert _run(session_factory, clock)["sent"] == 1 and len(robot.received) == 1


def test_a_returned_change_is_mailed_to_its_author_only(session_factory, clock, smtp, unit_hx):
    from kb.services import changes

    hx = unit_hx
    _run(session_factory, clock)
    for actor, email in ((hx.maint, "author@hx.example"), (hx.colleague, "other@hx.example")):
        oversight.set_contact(hx.world.uow(), actor, email=email, notify=True, daily_digest=False, now=clock())
    cr = changes.create(hx.world.uow(), hx.maint, kind="new", now=clock(),
                        proposal=hx.world.proposal(hx.cats["社会民生"]))
    changes.submit(hx.world.uow(), hx.maint, cr.id, revision=None, now=clock())
    changes.unit_review(hx.world.uow(), hx.rev, cr.id, approve=False, checks={**ALL_CHECKS_PASS, "clear": False},
                        reason="请分点作答", revision=None, now=clock())
    _run(session_factory, clock)
    assert [m["to"] for m in smtp.messages] == [["author@hx.example"]]
    assert "已退回" in smtp.messages[0]["subject"] and "请分点作答" in smtp.messages[0]["body"]


def test_a_published_change_is_mailed_to_its_author(session_factory, clock, smtp, unit_hx):
    hx = unit_hx
    _run(session_factory, clock)
    oversight.set_contact(hx.world.uow(), hx.maint, email="author@hx.example", notify=True, daily_digest=False,
                          now=clock())
    view = hx.world.publish_new(hx.maint, hx.rev, hx.office, hx.cats["社会民生"])
    _run(session_factory, clock)
    assert [m["to"] for m in smtp.messages] == [["author@hx.example"]]
    assert "已发布" in smtp.messages[0]["subject"] and f"知识 #{view.entry_id}" in smtp.messages[0]["body"]


def test_a_daily_digest_gathers_a_users_reminders_into_one_mail_at_its_hour(session_factory, clock, smtp, unit_hx):
    hx = unit_hx
    _run(session_factory, clock)  # Monday 10:00 in Shanghai
    oversight.set_contact(hx.world.uow(), hx.maint, email="digest@hx.example", notify=True, daily_digest=True,
                          now=clock())
    _task(hx, clock, "第一件")
    _task(hx, clock, "第二件")
    _run(session_factory, clock)
    assert smtp.messages == []  # held for the digest
    clock.set("2026-11-03T08:00:30+08:00")
    assert _run(session_factory, clock)["sent"] == 2
    assert len(smtp.messages) == 1 and "2 条待办" in smtp.messages[0]["subject"]
    assert "第一件" in smtp.messages[0]["body"] and "第二件" in smtp.messages[0]["body"]


def test_without_a_mail_server_mail_waits_with_the_reason(session_factory, clock, monkeypatch, unit_hx):
    monkeypatch.delenv("KB_SMTP_HOST", raising=False)
    hx = unit_hx
    _run(session_factory, clock)
    oversight.set_contact(hx.world.uow(), hx.maint, email="m@hx.example", notify=True, daily_digest=False,
                          now=clock())
    _task(hx, clock)
    assert _run(session_factory, clock)["failed"] == 1
    [row] = oversight.list_notifications(hx.world.uow(write=False), hx.office, waiting_only=True)
    assert "KB_SMTP_HOST" in row.last_error


def test_bad_preferences_are_refused(session_factory, clock, unit_hx, secret_box):
    from kb.errors import ValidationFailed

    hx = unit_hx
    with pytest.raises(ValidationFailed):
        oversight.set_contact(hx.world.uow(), hx.maint, email="not an address", notify=True, daily_digest=False,
                              now=clock())
    with pytest.raises(ValidationFailed):
        oversight.set_unit_robot(hx.world.uow(), hx.office, "HX", channel="telegram", url="https://x", secret=None,
                                 now=clock(), secret_box=secret_box)


def test_kb_reseal_secrets_moves_every_stored_secret_to_the_new_first_key(session_factory, clock, smtp, robot,
                                                                          unit_hx, secret_box, monkeypatch):
    from kb.db import UnitOfWork
    from kb.sealing import SecretBox, new_key
    from kb.services import sealed_secrets

    hx = unit_hx
    _run(session_factory, clock)
    oversight.set_unit_robot(hx.world.uow(), hx.office, "HX", channel="dingtalk", url=robot.url, secret=SECRET,
                             now=clock(), secret_box=secret_box)
    new = new_key()
    assert sealed_secrets.reseal_all(UnitOfWork(session_factory), SecretBox([new, os.environ["KB_SECRETS_KEY"]])) == 1
    monkeypatch.setenv("KB_SECRETS_KEY", new)  # the old key dropped: the robot's messages are still signed right
    _task(hx, clock)
    assert _run(session_factory, clock)["sent"] == 1 and len(robot.received) == 1
