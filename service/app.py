"""The application factory. Nothing is built at import time."""
from __future__ import annotations

import logging
from inspect import iscoroutinefunction
from typing import Any

from flask import Flask, jsonify
from flask_smorest import Api

from kb.db import make_engine, make_session_factory
from service import config as config_module
from service import errors, routing
from service.context import KbContext, system_clock
from service.schemas.common import ErrorSchema


LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"  # when and which worker


class KbApi(Api):
    """flask-smorest Api whose errors use our single error shape, in the handlers and in the document.

    flask-smorest documents the 422 of every ``@blp.arguments`` and its default
    error with its own schema (``code`` an integer, ``status`` a string); ours is
    the shape service.errors sends.
    """

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):  # our handlers in service.errors cover every status
        pass


class KbFlask(Flask):
    """Flask that asks once per function, not per call, whether it is a coroutine function.

    Flask asks for every hook and view of every request (11 times for a search,
    ~4 µs each); the answer for a function never changes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._is_async: dict[Any, bool] = {}

    def ensure_sync(self, func):
        key = getattr(func, "__func__", func)  # a view's bound method is new on every request
        is_async = self._is_async.get(key)
        if is_async is None:
            is_async = self._is_async[key] = iscoroutinefunction(key)
        return self.async_to_sync(func) if is_async else func


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = KbFlask(__name__, static_folder=None)  # the console serves its own assets (service/web)
    _configure(app, config or {})
    routing.register(app)  # path ids the database can hold; before any route is added
    errors.register(app)
    _init_body_limit(app)
    _init_context(app)
    _init_search(app)
    _init_attachments(app)
    _init_api(app)
    _init_docs_assets(app)
    _init_health(app)
    _init_console(app)
    # Correction-loop scheduler (docs/corrections.md): with RUN_SCHEDULER set, this process ticks on
    # standby and runs the jobs only while it holds the database lease, so one process of many runs them.
    if app.config.get("RUN_SCHEDULER"):
        from service.jobs import start_in_app
        start_in_app(app)
    return app


def warm_up(app: Flask) -> None:
    """Before a server's worker takes requests: a few searches through its index (KB_WARM_UP), recording
    nothing, so the first operator's search is as fast as the rest (kb.search.warmup)."""
    if not app.config.get("WARM_UP") or not app.config.get("SEARCH_OPEN_ON_STARTUP", True):
        return
    from kb.search.warmup import warm_up as warm_up_index

    ctx: KbContext = app.extensions["kb"]
    try:
        warm_up_index(ctx.search, ctx.today())
        client = app.test_client()
        client.get("/healthz")  # werkzeug compiles the URL map on the first request it routes
        # SQLAlchemy compiles the token lookup on first use (~13 ms); an unknown token is a plain 401
        client.get("/api/v1/categories", headers={"Authorization": "Bearer kb_warming-up"})
    except Exception:  # a slow first search is better than a worker that does not start
        logging.getLogger(__name__).exception("search warm-up failed; the first searches load what they need")


def _configure(app: Flask, overrides: dict[str, Any]) -> None:
    # Built once, from the environment and the overrides; a bad entry (e.g. KB_WEBHOOK_ALLOWED_HOSTS)
    # stops startup here. The same values are the Flask config the request handlers read.
    settings = config_module.Settings.from_env(overrides=overrides)
    app.extensions["kb.settings"] = settings
    app.config.update(settings.as_config())
    app.config.update(
        API_TITLE="kb-service：12345 热线知识库",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        # Served from the swagger-ui-bundle package, so /docs works on a network without internet access.
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.config.update(overrides)
    logging.basicConfig(level=app.config["LOG_LEVEL"], format=LOG_FORMAT)


def _init_body_limit(app: Flask) -> None:
    """KB_MAX_BODY_BYTES holds for chunked bodies too.

    Werkzeug refuses a Content-Length over the limit with a 413, but reads a chunked body only up to the
    limit and stops there, silently, so an oversized body would reach the parser cut short (a 400).
    A chunked body the server cannot read (a bad chunk size) is a 400 `malformed_body`, not a 500.
    """
    from flask import request
    from werkzeug.exceptions import RequestEntityTooLarge

    from service.errors import MalformedBody

    @app.before_request
    def _refuse_oversized_chunked_body():
        if "chunked" not in request.environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return  # nearly every request: looked up in the environ, cheaper than the properties below
        limit = request.max_content_length
        if limit is None or request.content_length is not None:
            return
        try:
            too_large = len(request.get_data(cache=True)) >= limit and request.environ["wsgi.input"].read(1)
        except Exception as exc:  # gunicorn's InvalidChunkSize, ChunkMissingTerminator, ...: the client's fault
            raise MalformedBody(description=f"malformed chunked body: {type(exc).__name__}") from None
        if too_large:
            raise RequestEntityTooLarge()


def _init_context(app: Flask) -> None:
    engine = app.config.get("ENGINE") or make_engine(app.config["DATABASE_URL"])
    session_factory = app.config.get("SESSION_FACTORY") or make_session_factory(engine)
    app.extensions["kb"] = KbContext(engine=engine, session_factory=session_factory,
                                     clock=app.config.get("CLOCK") or system_clock,
                                     settings=dict(app.config))


def _init_search(app: Flask) -> None:
    """This host's index, repaired at startup if missing, stale or corrupt, then kept in step."""
    import atexit
    from pathlib import Path

    from kb.search.embedding import embedder_from_setting
    from kb.search.sync import SearchIndex
    from kb.services.search import SearchLogBuffer

    ctx: KbContext = app.extensions["kb"]
    ctx.search = SearchIndex(ctx.uow, app.config["SEARCH_BACKEND"], Path(app.config["INDEX_DIR"]), today=ctx.today,
                             embedder=embedder_from_setting(app.config.get("EMBEDDER")))
    ctx.search_log = SearchLogBuffer(ctx.uow, max_rows=app.config.get("SEARCH_LOG_BATCH", 100),
                                     full_batch_in_background=app.config.get("SEARCH_LOG_IN_BACKGROUND", True))
    atexit.register(_flush_quietly, ctx.search_log)
    if app.config.get("SEARCH_OPEN_ON_STARTUP", True):
        ctx.search.open()


def _init_attachments(app: Flask) -> None:
    """The attachment store named by the settings (a client object only: nothing is contacted yet)."""
    from kb.storage import open_store

    app.extensions["kb"].attachments = app.config.get("ATTACHMENT_STORE_INSTANCE") or open_store(
        app.config["ATTACHMENT_STORE"], directory=app.config["ATTACHMENT_DIR"], bucket=app.config.get("S3_BUCKET"),
        endpoint_url=app.config.get("S3_ENDPOINT_URL"), region=app.config.get("S3_REGION"))


def _flush_quietly(search_log) -> None:
    try:
        search_log.flush()
    except Exception:  # the database may be gone at interpreter exit; a few log rows are not worth a traceback
        logging.getLogger(__name__).warning("search log rows could not be written at exit")


def _init_api(app: Flask) -> None:
    from service.api import register_blueprints

    api = KbApi(app, spec_kwargs={
        "info": {"description": "承办单位采集、审核、发布知识，话务员检索，考核引擎拉取合规数据。"},
        "security": [{"bearerAuth": []}],
    })
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "kb create-user 打印的访问令牌"})
    # the error shape is the component "Error" (KbApi.ERROR_SCHEMA), which flask-smorest registers
    register_blueprints(api)
    app.extensions["kb.api"] = api


def _init_console(app: Flask) -> None:
    """The web console at / (log-in, and each role's pages)."""
    from service.web import register

    register(app)


def _init_docs_assets(app: Flask) -> None:
    from flask import send_from_directory
    from swagger_ui_bundle import swagger_ui_path

    @app.get("/docs/assets/<path:filename>")
    def swagger_ui_assets(filename: str):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)


def _init_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        from sqlalchemy import text

        ctx: KbContext = app.extensions["kb"]
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        body = {"status": "ok", "database": ctx.engine.dialect.name}
        if ctx.search is not None:
            body["search"] = ctx.search.health()
        return jsonify(body)
