"""The gunicorn settings of `kb serve`, as a running server shows them."""
from __future__ import annotations

import time

import pytest
import requests

from tests.support.gunicorn import serve, stop


@pytest.mark.slow
def test_kb_serve_opens_no_gunicorn_control_socket(committed_database_url, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    proc, port = serve(committed_database_url, tmp_path / "index", 1)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            assert time.monotonic() < deadline, "kb serve did not come up"
            time.sleep(0.2)
        assert not (home / ".gunicorn").exists()
    finally:
        stop(proc)
