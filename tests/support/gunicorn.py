"""A real gunicorn as `kb serve` runs it (service.cli.gunicorn_arguments), for tests that need the server itself."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path


def serve(url: str, index_dir: Path, workers: int, *, stdout=subprocess.DEVNULL,
          **env_overrides: str) -> tuple[subprocess.Popen, int]:
    """Start it on a free loopback port, without the scheduler; returns the master process and the port.

    ``stdout`` receives the access log (a file to read it back).
    """
    from service.cli import gunicorn_arguments

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "KB_DATABASE_URL": url, "KB_INDEX_DIR": str(index_dir), "KB_RUN_SCHEDULER": "0",
           **env_overrides}
    proc = subprocess.Popen([sys.executable, "-m", *gunicorn_arguments("127.0.0.1", port, workers)], env=env,
                            stdout=stdout, stderr=subprocess.PIPE, start_new_session=True)
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
