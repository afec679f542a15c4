"""Webhook signing, verification, retry schedule and one delivery attempt.

The subscription and delivery tables live in kb (``kb.services.webhooks``);
this module holds signing, the retry schedule, one attempt
(:func:`post_delivery`) and the dispatcher (:func:`deliver_due`), which reads
and writes the delivery queue only through ``kb.compliance``.

A delivery is a POST of a JSON body with these headers:

* ``X-KB-Event``: the event name, e.g. ``score.published``.
* ``X-KB-Delivery``: the delivery id; the same on every attempt of one
  delivery, so a receiver can drop repeats.
* ``X-KB-Timestamp``: Unix seconds when this attempt was signed (each attempt
  is signed afresh, so a late retry is not rejected as stale).
* ``X-KB-Signature``: ``sha256=`` + hex HMAC-SHA256, keyed with the
  subscription secret, over ``f"{timestamp}.".encode() + body``.

A receiver recomputes the signature over the raw body with :func:`verify`,
rejects timestamps more than five minutes from its clock, and answers 2xx
once it has stored the event. Anything else is retried on the
:func:`backoff_seconds` schedule, at most :data:`MAX_ATTEMPTS` attempts;
410 Gone means the receiver wants no more deliveries.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

import kb.compliance as compliance
from scoring_hooks.receiver_guard import REFUSED, ConnectionCheck, guard

__all__ = [
    "DEFAULT_TIMEOUT",
    "DeliveryOutcome",
    "MAX_ATTEMPTS",
    "SIGNATURE_PREFIX",
    "backoff_seconds",
    "deliver_due",
    "delivery_headers",
    "next_retry_in",
    "post_delivery",
    "sign",
    "verify",
]

HEADER_EVENT = "X-KB-Event"
HEADER_DELIVERY = "X-KB-Delivery"
HEADER_TIMESTAMP = "X-KB-Timestamp"
HEADER_SIGNATURE = "X-KB-Signature"
SIGNATURE_PREFIX = "sha256="

#: Attempts per delivery, the first included.
MAX_ATTEMPTS = 8
#: (connect, read) seconds.
DEFAULT_TIMEOUT: tuple[float, float] = (3, 5)
USER_AGENT = "kb-service-webhooks/1"

log = logging.getLogger(__name__)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}.".encode() + body`` keyed with ``secret``."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise TypeError("timestamp must be an int (Unix seconds)")
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    body: bytes,
    timestamp: int | str,
    signature: str,
    tolerance_s: int = 300,
    now: float | None = None,
) -> bool:
    """True when ``signature`` (``"sha256=<hex>"`` or bare hex) signs ``body`` at ``timestamp``
    and the timestamp is within ``tolerance_s`` seconds of ``now``, either way.

    Takes header values as they arrive (strings); a malformed value is just False.
    """
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if not isinstance(signature, str):
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_s:
        return False
    given = signature[len(SIGNATURE_PREFIX):] if signature.startswith(SIGNATURE_PREFIX) else signature
    expected = sign(secret, body, ts)
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def delivery_headers(
    event: str, delivery_id: str, body: bytes, secret: str, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of one attempt, signed at ``timestamp`` (now when not given)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        HEADER_EVENT: event,
        HEADER_DELIVERY: str(delivery_id),
        HEADER_TIMESTAMP: str(ts),
        HEADER_SIGNATURE: SIGNATURE_PREFIX + sign(secret, body, ts),
    }


def backoff_seconds(
    attempt: int,
    base: int = 30,
    cap: int = 6 * 3600,
    jitter: float = 0.0,
    rng: random.Random | None = None,
) -> int:
    """Seconds to wait after failed attempt ``attempt`` (1-based): base · 2^(attempt−1), at most ``cap``.

    30, 60, 120, 240 … with the defaults. ``jitter`` (0–1) spreads the wait
    uniformly by ± that fraction, still within ``cap``; pass ``rng`` for a
    repeatable sequence.
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError(f"attempt must be a positive integer, got {attempt!r}")
    if base < 0 or cap < 0:
        raise ValueError("base and cap must not be negative")
    if not 0 <= jitter <= 1:
        raise ValueError("jitter must be between 0 and 1")
    delay = cap if attempt > 64 else min(cap, base * 2 ** (attempt - 1))
    if jitter:
        spread = (rng or random).uniform(-jitter, jitter)
        delay = min(cap, max(0, round(delay * (1 + spread))))
    return int(delay)


def next_retry_in(
    attempt: int, max_attempts: int = MAX_ATTEMPTS, **backoff: Any
) -> int | None:
    """Seconds until the next attempt after failed attempt ``attempt``; None when none is left."""
    if attempt >= max_attempts:
        return None
    return backoff_seconds(attempt, **backoff)


@dataclass(frozen=True)
class DeliveryOutcome:
    """The result of one attempt. ``status`` is None when no response came back."""

    ok: bool
    status: int | None
    error: str | None
    duration_ms: int

    @property
    def retryable(self) -> bool:
        """Worth another attempt: every failure except 410 Gone."""
        return not self.ok and self.status != 410


def post_delivery(
    url: str,
    event: str,
    delivery_id: str,
    body: bytes,
    secret: str,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    *,
    timestamp: int | None = None,
    session: requests.Session | None = None,
    connection_allowed: ConnectionCheck | None = None,
) -> DeliveryOutcome:
    """One signed POST. A 2xx answer is success; any other answer or any error is a failure.

    Never raises. Redirects are not followed (the signature is for ``url``
    only); a 3xx is a failure. With ``connection_allowed`` (host, peer
    address → bool), the address the connection reaches is checked before
    anything is sent (scoring_hooks.receiver_guard), and proxies are not used.
    """
    started = time.monotonic()
    own_session = None
    if connection_allowed is not None:
        session = guard(session or (own_session := requests.Session()), connection_allowed)
    try:
        return _post(url, event, delivery_id, body, secret, timeout, timestamp, session, started)
    finally:
        if own_session is not None:
            own_session.close()


def _post(url, event, delivery_id, body, secret, timeout, timestamp, session, started) -> DeliveryOutcome:
    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        headers = delivery_headers(event, delivery_id, body, secret, timestamp)
        poster = session.post if session is not None else requests.post
        response = poster(url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True)
    except requests.Timeout as exc:
        return DeliveryOutcome(False, None, f"timeout: {exc}", elapsed())
    except requests.ConnectionError as exc:
        if REFUSED in str(exc):
            return DeliveryOutcome(False, None, f"{REFUSED}; not sent", elapsed())
        return DeliveryOutcome(False, None, f"connection error: {exc}", elapsed())
    except Exception as exc:  # invalid URL, bad header value, anything else: a failed attempt
        return DeliveryOutcome(False, None, f"{type(exc).__name__}: {exc}", elapsed())

    try:
        status = response.status_code
        if 200 <= status < 300:
            return DeliveryOutcome(True, status, None, elapsed())
        excerpt = ""
        try:
            excerpt = next(response.iter_content(200), b"").decode("utf-8", "replace").strip()
        except Exception:  # the body is only a hint for the log
            pass
        reason = f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
        return DeliveryOutcome(False, status, reason, elapsed())
    finally:
        response.close()


# ---------------------------------------------------------------------------
# The dispatcher (the deliver_webhooks job)
# ---------------------------------------------------------------------------


NOT_ALLOWED = "receiver host not allowed here (KB_WEBHOOK_ALLOWED_HOSTS); not sent"
UNREADABLE_SECRET = "the signing secret cannot be opened with KB_SECRETS_KEY (the key changed); not sent"


def _attempt(post: Callable[..., DeliveryOutcome], clock: Callable[[], datetime],
             delivery: compliance.PendingDelivery,
             allows: Callable[[str], bool] | None = None) -> tuple[datetime, DeliveryOutcome]:
    """One POST in a worker thread; touches no database."""
    attempted_at = clock()
    started = time.monotonic()
    if allows is not None and not allows(delivery.url):
        # A subscription made before the allow-list narrowed: logged as a failed attempt, so it waits for
        # its retries (or a replay) instead of vanishing.
        return attempted_at, DeliveryOutcome(False, None, NOT_ALLOWED, 0)
    if delivery.secret is None:  # logged like the above: it waits for the right key, then a retry or replay
        return attempted_at, DeliveryOutcome(False, None, UNREADABLE_SECRET, 0)
    try:
        outcome = post(delivery.url, delivery.event, delivery.delivery_key, delivery.body.encode("utf-8"),
                       delivery.secret)
    except Exception as exc:  # post_delivery never raises; a substitute might
        outcome = DeliveryOutcome(False, None, f"{type(exc).__name__}: {exc}",
                                  int((time.monotonic() - started) * 1000))
    return attempted_at, outcome


def _fair_order(due: list[compliance.PendingDelivery]) -> list[compliance.PendingDelivery]:
    """Round-robin over receivers, so one receiver's backlog does not take every worker first."""
    by_url: dict[str, list[compliance.PendingDelivery]] = {}
    for delivery in due:
        by_url.setdefault(delivery.url, []).append(delivery)
    queues = list(by_url.values())
    ordered: list[compliance.PendingDelivery] = []
    while queues:
        ordered.extend(q.pop(0) for q in queues)
        queues = [q for q in queues if q]
    return ordered


def deliver_due(
    uow_factory: compliance.UowFactory,
    clock: Callable[[], datetime],
    *,
    secret_box: compliance.SecretBox,
    post: Callable[..., DeliveryOutcome] = post_delivery,
    max_workers: int = 8,
    limit: int = 50,
    allows: Callable[[str], bool] | None = None,
    connection_allowed: ConnectionCheck | None = None,
) -> dict[str, int]:
    """Send the deliveries that are due, in parallel, and record every attempt.

    Claims up to ``limit`` due deliveries (``kb.compliance.claim_due_deliveries``),
    POSTs them from a pool of ``max_workers`` threads, so a receiver that
    never answers only ties up its own attempt until the timeout, and records
    each outcome as soon as it comes back (in this thread: the workers touch
    no database). A retryable failure waits ``next_retry_in(attempt)``; 410
    or the last attempt fails the delivery. ``allows`` (a receiver URL → may it
    be sent to) keeps deliveries from hosts the deployment does not allow: each
    such attempt is logged as a failure and nothing is sent, as is one whose secret ``secret_box`` cannot
    open; ``connection_allowed``
    is handed to ``post`` to check the address each connection reaches. Returns
    counts by outcome.
    """
    if connection_allowed is not None:
        post = functools.partial(post, connection_allowed=connection_allowed)
    due = compliance.claim_due_deliveries(uow_factory, clock(), secret_box=secret_box, limit=limit)
    counts = {"claimed": len(due), "delivered": 0, "retrying": 0, "failed": 0, "unrecorded": 0}
    if not due:
        return counts
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(due))),
                            thread_name_prefix="kb-webhook") as pool:
        futures = {pool.submit(_attempt, post, clock, d, allows): d for d in _fair_order(due)}
        for future in as_completed(futures):
            delivery = futures[future]
            attempted_at, outcome = future.result()
            retry_in = next_retry_in(delivery.attempt_number) if outcome.retryable else None
            try:
                state = compliance.record_attempt(
                    uow_factory, delivery.id, ok=outcome.ok, status=outcome.status, error=outcome.error,
                    duration_ms=outcome.duration_ms, attempted_at=attempted_at, retry_in_seconds=retry_in,
                    replay=delivery.replay)
            except Exception:  # the claim lapses and the delivery is tried again: at least once, never lost
                log.exception("webhook delivery %s: the attempt could not be recorded", delivery.id)
                counts["unrecorded"] += 1
                continue
            counts["delivered" if state == "delivered" else "retrying" if state == "pending" else "failed"] += 1
    return counts
