"""What the real `kb serve` (gunicorn) shows a careless or hostile client, and what it writes down.

gunicorn answers some requests itself, before the app sees them: those answers
are in the one JSON error shape too. Its access log keeps paths, never query
strings (operators' searches carry callers' phone and ID numbers).
"""
from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from tests.support.gunicorn import serve, stop

PHONE = "13812345678"


def _wait_up(proc, port):
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        assert time.monotonic() < deadline, "kb serve did not come up"
        time.sleep(0.2)


def _raw(port: int, data: bytes) -> tuple[int, dict, dict]:
    """Send bytes as they are; the status, headers and JSON body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


@pytest.fixture
def server(committed_database_url, tmp_path):
    log = open(tmp_path / "access.log", "wb")
    proc, port = serve(committed_database_url, tmp_path / "index", 1, stdout=log)
    try:
        _wait_up(proc, port)
        yield port, tmp_path / "access.log"
    finally:
        stop(proc)
        log.close()


@pytest.mark.slow
def test_gunicorns_own_errors_and_an_unreadable_chunked_body_are_json(server):
    port, _ = server
    cases = [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(150)) + b"\r\n", 431,
         "request_header_fields_too_large"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 9000 + b"\r\n\r\n", 431, "request_header_fields_too_large"),
        (b"NOT A REQUEST LINE\r\n\r\n", 400, "bad_request"),
        (b"POST /api/v1/change-requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400, "malformed_body"),
    ]
    for data, status, code in cases:
        answered, headers, body = _raw(port, data)
        assert (answered, body["status"], body["code"]) == (status, status, code), (data[:60], body)
        assert headers["Content-Type"].startswith("application/json")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])


@pytest.mark.slow
def test_the_access_log_keeps_paths_and_never_query_strings(server):
    port, log_path = server
    for url in (f"/api/v1/search?q={PHONE}", f"/api/v1/knowledge?q={PHONE}",
                f"/api/v1/search/suggest?prefix={PHONE}"):
        requests.get(f"http://127.0.0.1:{port}{url}", timeout=10, headers={"Referer": f"http://x/?q={PHONE}"})
    deadline = time.monotonic() + 10
    while "/api/v1/search/suggest" not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    logged = log_path.read_text()
    assert "/api/v1/search " in logged and "/api/v1/knowledge " in logged and "/api/v1/search/suggest " in logged
    assert PHONE not in logged
