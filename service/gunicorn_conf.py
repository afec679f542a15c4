"""gunicorn settings of `kb serve` (``-c python:service.gunicorn_conf``, from ``service.cli.gunicorn_arguments``).

Each worker is pinned to a core of its own, the one fewest other workers hold.
A search is CPU-bound and there is one sync worker per core
(``service.cli.default_workers``); left to the kernel, the two workers of a
2-core host can share one core while requests queue, the other core
running the load's other processes. Measured at 100k entries, 500 searches/s
from 32 clients, in 21 runs alternating between the two: p95 under 20 ms in
6 of 11 runs pinned (median 18 ms) and in 2 of 10 not (median 50 ms), at
the same CPU per search (docs/search.md). ``KB_PIN_WORKERS=0`` leaves
placement to the kernel, e.g. where a host runs other busy services beside
kb-service.

gunicorn's control socket (new in 27) is off: `kb serve` is managed by its
signals, and the socket's one default path per user would be shared by every
`kb serve` of that user on the host (the last one started would take it).
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable

# Module-level names here are read as gunicorn settings (`config` is one), hence the function import.
from service.config import value_from_env

control_socket_disable = True


def core_for_worker(allowed: Iterable[int], others: Iterable[set[int]]) -> int:
    """The allowed core that the fewest other pinned workers hold (the lowest on a tie).

    ``others``: the CPU sets of the other live workers; one not pinned (more than
    one core) holds none.
    """
    held = Counter(next(iter(cpus)) for cpus in others if len(cpus) == 1)
    return min(sorted(allowed), key=lambda core: held[core])


def pinning_wanted() -> bool:
    return bool(value_from_env("PIN_WORKERS")) and hasattr(os, "sched_setaffinity")


def post_fork(server, worker) -> None:
    if not pinning_wanted():
        return
    allowed = os.sched_getaffinity(0)  # the master's set: not pinned itself
    if len(allowed) < 2:
        return
    others = []
    for pid in list(server.WORKERS):  # the workers alive when this one was forked
        if pid == os.getpid():
            continue
        try:
            others.append(os.sched_getaffinity(pid))
        except OSError:  # exited meanwhile
            continue
    core = core_for_worker(allowed, others)
    os.sched_setaffinity(0, {core})
    server.log.info("worker %s pinned to core %s", os.getpid(), core)
