"""The console's session: a signed cookie holding only the id of a session row (and the CSRF token).

Every page reads the row and its user, so a log-out, a deactivation or a password reset
ends the session at the next request on every worker and host.
"""
from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask, current_app, g, session

from kb.access import Actor
from kb.errors import Unauthenticated
from kb.sealing import kept_key
from kb.services import accounts
from service.config import login_policy

SESSION_KEY = "sid"


def secret_key(app: Flask) -> str:
    """KB_SECRET_KEY, or one kept beside the database on this host (made on first start)."""
    if app.config.get("SECRET_KEY"):
        return app.config["SECRET_KEY"]
    return kept_key(Path(app.config.get("SECRET_KEY_FILE", "var/secret_key")), lambda: secrets.token_urlsafe(48))


def current_user() -> Actor | None:
    """The logged-in actor of this request, read once from the session row."""
    if "console_actor" in g:
        return g.console_actor
    actor = None
    session_id = session.get(SESSION_KEY)
    if session_id:
        kb_ctx = current_app.extensions["kb"]
        try:
            actor = accounts.session_actor(kb_ctx.uow, session_id, now=kb_ctx.now(),
                                           policy=login_policy(current_app.config))
        except Unauthenticated as exc:
            g.session_ended = exc.message
            session.clear()
    g.console_actor = actor
    return actor


def log_in(user_id: int, address: str) -> None:
    """A fresh session for this user: the old cookie's contents (and any fixed session id) are dropped."""
    kb_ctx = current_app.extensions["kb"]
    session.clear()
    session[SESSION_KEY] = accounts.open_session(kb_ctx.uow(), user_id, address=address, now=kb_ctx.now())
    session.permanent = False
    g.pop("console_actor", None)


def log_out() -> None:
    session_id = session.get(SESSION_KEY)
    if session_id:
        kb_ctx = current_app.extensions["kb"]
        accounts.end_session(kb_ctx.uow(), session_id, now=kb_ctx.now())
    session.clear()
