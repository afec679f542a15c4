"""The web console: server-rendered Chinese pages for operators, unit maintainers and reviewers,
and the office, calling the same kb use cases as the API. No CDN: every asset is served from here.
"""
from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from service.config import login_policy
from service.web.identity import PasswordLogin
from service.web.session import secret_key

csrf = CSRFProtect()


def register(app: Flask) -> None:
    app.config["SECRET_KEY"] = secret_key(app)
    # Flask's defaults are there already: replace the ones that are not what the console wants.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if app.config.get("SESSION_COOKIE_NAME") == "session":
        app.config["SESSION_COOKIE_NAME"] = "kb_session"
    # The console checks CSRF itself (console.before_request); API calls carry bearer tokens, not cookies.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # valid for the session: a call can outlast an hour
    csrf.init_app(app)
    app.extensions.setdefault("kb.identity", PasswordLogin(app.extensions["kb"], login_policy(app.config)))

    from service.web import (  # noqa: F401  (their routes)
        views_auth, views_files, views_office, views_operator, views_oversight, views_unit)
    from service.web.blueprint import console

    app.register_blueprint(console)
