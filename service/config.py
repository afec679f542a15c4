"""Settings from environment variables, with safe defaults."""
from __future__ import annotations

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
)


def from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for env_name, key, default, parse, _ in SETTINGS:
        config[key] = parse(environ[env_name]) if env_name in environ else default
    return config
