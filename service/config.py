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
    ("KB_IMPORT_MAX_ROWS", "IMPORT_MAX_ROWS", 1000, int, "Most rows one knowledge import file may hold"),
    ("KB_IMPORT_MAX_BYTES", "IMPORT_MAX_BYTES", 10 * 1024 * 1024, int,
     "Largest knowledge import file (.xlsx or .csv), in bytes"),
    ("KB_ATTACHMENT_STORE", "ATTACHMENT_STORE", "local", str,
     "Where attachment files are kept: local (KB_ATTACHMENT_DIR) or s3 (an S3-compatible object store)"),
    ("KB_ATTACHMENT_DIR", "ATTACHMENT_DIR", "var/attachments", str, "Folder of attachment files (local store)"),
    ("KB_ATTACHMENT_MAX_BYTES", "ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024, int, "Largest attachment file, in bytes"),
    ("KB_S3_BUCKET", "S3_BUCKET", None, str, "Bucket of attachment files (s3 store)"),
    ("KB_S3_ENDPOINT_URL", "S3_ENDPOINT_URL", None, str,
     "S3-compatible endpoint, e.g. http://minio:9000 (s3 store; unset: AWS); credentials as boto3 finds them"),
    ("KB_S3_REGION", "S3_REGION", None, str, "Region of the bucket (s3 store)"),
    ("KB_LOG_LEVEL", "LOG_LEVEL", "INFO", str, "Python log level"),
    ("KB_WEBHOOK_ALLOWED_HOSTS", "WEBHOOK_ALLOWED_HOSTS", None, str,
     "Hosts webhooks may be sent to: names, *.domain, IP networks, comma-separated; unset allows any"),
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
