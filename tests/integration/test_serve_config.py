"""The gunicorn settings of `kb serve`, as a running server shows them."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import requests

from service.cli import gunicorn_arguments


@pytest.mark.slow
def test_kb_serve_opens_no_gunicorn_control_socket(committed_database_url, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    env.update(HOME=str(home), KB_DATABASE_URL=committed_database_url, KB_INDEX_DIR=str(tmp_path / "index"),
               KB_RUN_SCHEDULER="0")
    proc = subprocess.Popen([sys.executable, "-m", *gunicorn_arguments("127.0.0.1", port, 1)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
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
        proc.terminate()
        proc.wait(timeout=30)
