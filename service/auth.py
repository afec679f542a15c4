"""Bearer tokens → the acting user, checked before every API view.

A verified token is remembered in this process for ``TOKEN_CACHE_SECONDS``
(30 s by default; 0 turns the cache off; never past the token's expiry), keyed
by the token's SHA-256, so a busy operator's searches do not each read the
token and its user from the database. Revoking a token or deactivating a user
raises one counter in the database (kb.services.accounts.raise_credential_epoch);
every process reads it at most once a second and forgets what it remembered
when it moved, so a revocation holds everywhere within a second at the cost of
one one-row read per process per second. A write through the users API in this
process empties this process's cache at once. Failed authentications are never
cached.
"""
from __future__ import annotations

import threading
import time

from flask import after_this_request, current_app, g, request

from kb.access import Actor
from kb.errors import Unauthenticated
from kb.services import accounts, directory

DEFAULT_TOKEN_CACHE_SECONDS = 30.0
_MAX_CACHED_TOKENS = 10_000


EPOCH_CHECK_SECONDS = 1.0


class TokenCache:
    """token hash → (actor, valid until, monotonic seconds); one per app."""

    def __init__(self, ttl_seconds: float, read_epoch=None) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[str, tuple[Actor, float]] = {}
        self._lock = threading.Lock()
        self._read_epoch = read_epoch  # () -> int: the database's credential epoch
        self._epoch: int | None = None
        self._epoch_checked = 0.0

    def _follow_epoch(self, now: float) -> None:
        if self._read_epoch is None or now - self._epoch_checked < EPOCH_CHECK_SECONDS:
            return
        self._epoch_checked = now
        epoch = self._read_epoch()
        if epoch != self._epoch:
            with self._lock:
                self._entries.clear()
                self._epoch = epoch

    def get(self, token_hash: str) -> Actor | None:
        now = time.monotonic()
        self._follow_epoch(now)
        found = self._entries.get(token_hash)
        if found is None or found[1] < now:
            return None
        return found[0]

    def put(self, token_hash: str, actor: Actor, seconds_left: float | None = None) -> None:
        ttl = self.ttl if seconds_left is None else max(0.0, min(self.ttl, seconds_left))
        with self._lock:
            if len(self._entries) >= _MAX_CACHED_TOKENS:
                self._entries.clear()
            self._entries[token_hash] = (actor, time.monotonic() + ttl)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _token_cache() -> TokenCache | None:
    cache = current_app.extensions.get("kb.token_cache")
    if cache is None:
        ttl = float(current_app.config.get("TOKEN_CACHE_SECONDS", DEFAULT_TOKEN_CACHE_SECONDS))
        if ttl <= 0:
            return None
        kb_ctx = current_app.extensions["kb"]
        cache = current_app.extensions.setdefault(
            "kb.token_cache", TokenCache(ttl, read_epoch=lambda: accounts.credential_epoch(kb_ctx.uow)))
    return cache


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is None:
        raise Unauthenticated()
    return actor


def authenticate_request() -> None:
    """before_request hook for API blueprints."""
    if request.method == "OPTIONS":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("缺少访问令牌：请在 Authorization 头中提供 Bearer 令牌")
    cache = _token_cache()
    if cache is not None and request.blueprint == "users" and request.method != "GET":
        @after_this_request
        def _forget_tokens(response):  # a revoked token stops working in this process at once
            if response.status_code < 400:
                cache.clear()
            return response
    token_hash = directory.hash_token(token)
    actor = cache.get(token_hash) if cache is not None else None
    if actor is None:
        kb_ctx = current_app.extensions["kb"]
        now = kb_ctx.now()
        actor, expires_at = directory.authenticate_until(kb_ctx.uow, token, now)
        if cache is not None:
            cache.put(token_hash, actor, (expires_at - now).total_seconds() if expires_at else None)
    g.actor = actor
