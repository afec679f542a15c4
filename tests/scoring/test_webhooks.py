"""Webhook signing and delivery, against real local receivers."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from scoring_hooks.webhooks import (
    MAX_ATTEMPTS,
    backoff_seconds,
    delivery_headers,
    next_retry_in,
    post_delivery,
    sign,
    verify,
)

SECRET = "whsec-历城-0001"
BODY = json.dumps({"event": "score.published", "unit_code": "370112-JT", "points": 3.9}, ensure_ascii=False).encode()


# ---------------------------------------------------------------------------
# Signatures
# ---------------------------------------------------------------------------


def test_a_signature_verifies_and_any_change_breaks_it():
    now = 1_790_000_000
    signature = "sha256=" + sign(SECRET, BODY, now)
    assert verify(SECRET, BODY, now, signature, now=now)
    assert verify(SECRET, BODY, str(now), signature[len("sha256="):], now=now + 10)
    assert not verify(SECRET, BODY + b" ", now, signature, now=now)
    assert not verify(SECRET, BODY, now + 1, signature, now=now)
    assert not verify("another-secret", BODY, now, signature, now=now)
    assert not verify(SECRET, BODY, now, "sha256=" + "0" * 64, now=now)
    assert not verify(SECRET, BODY, "yesterday", signature, now=now)


def test_the_signature_covers_the_timestamp_and_the_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, 1_700_000_000) == expected


def test_a_stale_or_future_timestamp_is_rejected():
    signed_at = 1_790_000_000
    signature = "sha256=" + sign(SECRET, BODY, signed_at)
    assert verify(SECRET, BODY, signed_at, signature, now=signed_at + 300)
    assert not verify(SECRET, BODY, signed_at, signature, now=signed_at + 301)
    assert not verify(SECRET, BODY, signed_at, signature, now=signed_at - 301)
    assert verify(SECRET, BODY, signed_at, signature, tolerance_s=3600, now=signed_at + 3000)


def test_delivery_headers_carry_event_delivery_timestamp_and_signature():
    headers = delivery_headers("score.published", "d-42", BODY, SECRET, timestamp=1_790_000_000)
    assert headers["X-KB-Event"] == "score.published"
    assert headers["X-KB-Delivery"] == "d-42"
    assert headers["X-KB-Timestamp"] == "1790000000"
    assert headers["X-KB-Signature"] == "sha256=" + sign(SECRET, BODY, 1_790_000_000)


# ---------------------------------------------------------------------------
# Retry schedule
# ---------------------------------------------------------------------------


def test_backoff_doubles_from_thirty_seconds_and_is_capped():
    assert [backoff_seconds(n) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3840]
    assert backoff_seconds(10) == 15360
    assert backoff_seconds(11) == 6 * 3600  # 30720 s capped at six hours
    assert backoff_seconds(500) == 6 * 3600
    assert backoff_seconds(3, base=10, cap=25) == 25


def test_backoff_jitter_stays_within_its_spread_and_the_cap():
    rng = random.Random(7)
    for attempt in range(1, 12):
        plain = backoff_seconds(attempt)
        jittered = backoff_seconds(attempt, jitter=0.2, rng=rng)
        assert plain * 0.8 - 1 <= jittered <= min(plain * 1.2 + 1, 6 * 3600)


def test_backoff_refuses_attempt_zero():
    with pytest.raises(ValueError):
        backoff_seconds(0)


def test_no_retry_after_the_last_attempt():
    assert MAX_ATTEMPTS == 8
    assert next_retry_in(1) == 30
    assert next_retry_in(7) == 1920
    assert next_retry_in(8) is None
    assert next_retry_in(2, max_attempts=2) is None


# ---------------------------------------------------------------------------
# Delivery against real receivers on 127.0.0.1
# ---------------------------------------------------------------------------


class FlakyReceiver(BaseHTTPRequestHandler):
    """Answers 500 to the first two requests, then verifies and accepts."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server = self.server
        with server.lock:
            server.attempts.append(dict(self.headers))
            failing = len(server.attempts) <= 2
        if failing:
            self._answer(500, b"temporarily unavailable")
            return
        valid = verify(SECRET, body, self.headers["X-KB-Timestamp"], self.headers["X-KB-Signature"])
        if not valid:
            self._answer(401, b"bad signature")
            return
        with server.lock:
            server.accepted.append((self.headers["X-KB-Delivery"], self.headers["X-KB-Event"], body))
        self._answer(200, b"ok")

    def _answer(self, status: int, text: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format, *args):  # keep test output quiet
        pass


@contextmanager
def http_receiver(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.lock = threading.Lock()
    server.attempts = []
    server.accepted = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}/hooks/kb"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def session():
    with requests.Session() as s:
        s.trust_env = False  # no proxy for 127.0.0.1, whatever the environment says
        yield s


def test_a_delivery_failing_twice_is_accepted_exactly_once_on_the_third_attempt(session):
    with http_receiver(FlakyReceiver) as (server, url):
        outcomes, waits = [], []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            outcome = post_delivery(url, "score.published", "d-0001", BODY, SECRET, timeout=(2, 2), session=session)
            outcomes.append(outcome)
            if outcome.ok:
                break
            assert outcome.retryable
            waits.append(next_retry_in(attempt))  # the job would wait this long; the test does not

    assert [(o.ok, o.status) for o in outcomes] == [(False, 500), (False, 500), (True, 200)]
    assert outcomes[0].error == "HTTP 500: temporarily unavailable"
    assert outcomes[2].error is None and outcomes[2].duration_ms >= 0
    assert waits == [30, 60]
    assert len(server.attempts) == 3
    assert {h["X-KB-Delivery"] for h in server.attempts} == {"d-0001"}
    assert server.accepted == [("d-0001", "score.published", BODY)]


def test_a_receiver_that_never_answers_times_out_without_hanging(session):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(5)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept_and_stay_silent():
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        held.append(conn)
        stop.wait(10)
        conn.close()

    thread = threading.Thread(target=accept_and_stay_silent, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/hooks/kb"
        started = time.monotonic()
        outcome = post_delivery(url, "score.published", "d-0002", BODY, SECRET, timeout=(1, 0.5), session=session)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        listener.close()
        thread.join(5)

    assert not outcome.ok and outcome.status is None
    assert outcome.error.startswith("timeout")
    assert elapsed < 3
    assert 400 <= outcome.duration_ms < 3000
    assert outcome.retryable


def test_an_unreachable_or_invalid_url_is_a_failure_not_an_exception(session):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    refused = post_delivery(f"http://127.0.0.1:{port}/", "e", "d", BODY, SECRET, timeout=(1, 1), session=session)
    assert (refused.ok, refused.status) == (False, None)
    assert refused.error.startswith("connection error")
    invalid = post_delivery("not a url", "e", "d", BODY, SECRET)
    assert (invalid.ok, invalid.status) == (False, None) and invalid.error
