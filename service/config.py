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
    ("KB_MAX_BODY_BYTES", "MAX_CONTENT_LENGTH", 1024 * 1024, int, "Largest accepted request body"),
    ("KB_RUN_SCHEDULER", "RUN_SCHEDULER", False, lambda v: v.lower() in ("1", "true", "yes"),
     "Run scheduled jobs inside this process (kb serve turns it on; use kb scheduler on multi-host setups)"),
    ("KB_LOG_LEVEL", "LOG_LEVEL", "INFO", str, "Python log level"),
    ("KB_WEBHOOK_ALLOWED_HOSTS", "WEBHOOK_ALLOWED_HOSTS", None, str,
     "Hosts webhooks may be sent to: names, *.domain, IP networks, comma-separated; unset allows public "
     "addresses only (never loopback, link-local or cloud metadata unless listed; private ranges only when listed)"),
    ("KB_SEARCH_LOG_RETENTION_DAYS", "SEARCH_LOG_RETENTION_DAYS", 180, lambda v: search_log_retention_days(v),
     "Days the search log keeps operators' queries (masked); older rows are deleted hourly; 0 keeps them"),
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


DEFAULT_SEARCH_LOG_RETENTION_DAYS = 180


def search_log_retention_days(raw: Any) -> int:
    """KB_SEARCH_LOG_RETENTION_DAYS read: a whole number of days, 0 for no purge."""
    if raw is None or raw == "":
        return DEFAULT_SEARCH_LOG_RETENTION_DAYS
    try:
        days = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"KB_SEARCH_LOG_RETENTION_DAYS must be a whole number of days, got {raw!r}") from None
    if days < 0:
        raise ValueError(f"KB_SEARCH_LOG_RETENTION_DAYS must not be negative, got {days}")
    return days
