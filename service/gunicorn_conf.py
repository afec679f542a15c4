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

The access log records the path without its query string (``%(U)s``, not the
request line ``%(r)s``) and no referer: ``/search?q=…`` and
``/search/suggest?prefix=…`` carry what operators type, callers' phone and ID
numbers among it. The search log keeps queries, masked (kb.search.redaction).

Before forking the workers, the master imports the service and loads search's
dictionaries (``on_starting``, kb.search.warmup): the workers share those pages
instead of each reading its own copy, and each worker warms its index before it
takes requests (wsgi.py). No database, index or thread is opened in the master,
so nothing is shared that must not be. ``KB_WARM_UP=0`` skips both.

Errors gunicorn answers itself, before the app sees the request (400 on a bad
request line or chunked body, 414 URI too long, 431 headers too large), are in
the app's one JSON error shape instead of gunicorn's HTML page.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable

# Module-level names here are read as gunicorn settings (`config` is one), hence the function import.
from service.config import value_from_env

control_socket_disable = True
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'

# gunicorn's own errors: (machine code, Chinese message) by status, as service.errors.HTTP_MESSAGES
SERVER_ERRORS = {
    400: ("bad_request", "请求格式错误（请求行、请求头或分块传输不合规范）"),
    403: ("forbidden", "无权执行此操作"),
    414: ("uri_too_long", "请求地址过长"),
    417: ("expectation_failed", "不支持请求头 Expect 的要求"),
    431: ("request_header_fields_too_large", "请求头过大或过多"),
    500: ("internal_error", "服务器内部错误，请稍后重试"),
    501: ("not_implemented", "不支持此传输编码"),
}


def json_error_response(status_int: int, reason: str) -> bytes:
    """A whole HTTP response in the one error shape {code, status, message}; gunicorn's detail is left out."""
    code, message = SERVER_ERRORS.get(status_int, ("http_error", "请求错误"))
    body = json.dumps({"code": code, "status": status_int, "message": message}, ensure_ascii=False).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def _write_json_error(sock, status_int, reason, mesg):  # gunicorn.util.write_error's signature
    from gunicorn import util

    util.write_nonblock(sock, json_error_response(status_int, reason))


def answer_server_errors_in_json() -> None:
    from gunicorn import util

    util.write_error = _write_json_error


def core_for_worker(allowed: Iterable[int], others: Iterable[set[int]]) -> int:
    """The allowed core that the fewest other pinned workers hold (the lowest on a tie).

    ``others``: the CPU sets of the other live workers; one not pinned (more than
    one core) holds none.
    """
    held = Counter(next(iter(cpus)) for cpus in others if len(cpus) == 1)
    return min(sorted(allowed), key=lambda core: held[core])


def pinning_wanted() -> bool:
    return bool(value_from_env("PIN_WORKERS")) and hasattr(os, "sched_setaffinity")


def on_starting(server) -> None:
    """In the master, before any worker is forked: what every worker reads and nobody writes."""
    if not value_from_env("WARM_UP"):
        return
    import gc

    import service.app  # noqa: F401  (flask, SQLAlchemy, the schemas: imported once, shared by the workers)
    from kb.search.warmup import load_analysis_data, load_packaged_encoder

    load_analysis_data()
    load_packaged_encoder(value_from_env("EMBEDDER"))
    gc.freeze()  # out of the collector's reach: a worker's collections do not write to the shared pages


def post_fork(server, worker) -> None:
    answer_server_errors_in_json()  # in the worker, where gunicorn answers them
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
