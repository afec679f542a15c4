"""Bearer tokens → the acting user, checked before every API view."""
from __future__ import annotations

from flask import current_app, g, request

from kb.access import Actor
from kb.errors import Unauthenticated
from kb.services import directory


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
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("缺少访问令牌：请在 Authorization 头中提供 Bearer 令牌")
    kb_ctx = current_app.extensions["kb"]
    g.actor = directory.authenticate(kb_ctx.uow, token.strip(), kb_ctx.now())
