"""The gunicorn that `kb serve` runs: one worker per core, each on a core of its own."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from service.gunicorn_conf import core_for_worker
from tests.support.gunicorn import serve, stop

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                                reason="pinning needs a Linux host with two cores or more")


def test_a_new_worker_takes_the_core_fewest_workers_hold():
    assert core_for_worker({0, 1}, []) == 0
    assert core_for_worker({0, 1}, [{0}]) == 1
    assert core_for_worker({0, 1, 2, 3}, [{0}, {1}, {3}]) == 2
    assert core_for_worker({0, 1}, [{0}, {1}]) == 0  # more workers than cores: shared evenly
    assert core_for_worker({0, 1}, [{0}, {1}, {0}]) == 1
    assert core_for_worker({0, 1}, [{0, 1}, {0}]) == 1  # a worker not pinned holds no core
    assert core_for_worker({2, 5}, [{2}]) == 5  # only the cores this host lets it use


def _workers(proc: subprocess.Popen, port: int, count: int, seconds: float = 60) -> list[int]:
    """The master's worker pids, once ``count`` are up and the server answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode()[-3000:])
        children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        try:
            healthy = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).ok
        except (requests.ConnectionError, requests.Timeout):
            healthy = False
        if healthy and len(children) == count:
            time.sleep(0.5)  # a worker pins itself right after the fork; let the last one get there
            return children
        time.sleep(0.2)
    raise AssertionError(f"{count} workers did not come up")


@pytest.mark.slow
def test_each_worker_runs_on_a_core_of_its_own_and_a_replacement_takes_the_freed_one(
        committed_database_url, tmp_path):
    proc, port = serve(committed_database_url, tmp_path / "index", 2)
    try:
        first = _workers(proc, port, 2)
        cores = [os.sched_getaffinity(pid) for pid in first]
        assert all(len(c) == 1 for c in cores) and cores[0] != cores[1], cores
        os.kill(first[0], signal.SIGKILL)  # gunicorn forks a replacement
        deadline = time.monotonic() + 60
        while True:
            now = _workers(proc, port, 2)
            if first[0] not in now:
                break
            assert time.monotonic() < deadline, "the killed worker was not replaced"
        replacement = next(pid for pid in now if pid != first[0] and pid != first[1])
        assert os.sched_getaffinity(replacement) == cores[0]
        assert os.sched_getaffinity(first[1]) == cores[1]
    finally:
        stop(proc)


@pytest.mark.slow
def test_kb_pin_workers_0_leaves_placement_to_the_kernel(committed_database_url, tmp_path):
    proc, port = serve(committed_database_url, tmp_path / "index", 2, KB_PIN_WORKERS="0")
    try:
        for pid in _workers(proc, port, 2):
            assert os.sched_getaffinity(pid) == os.sched_getaffinity(0)
    finally:
        stop(proc)
