"""The `kb` command: migrate, create units and users, load the demo, serve, reindex."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from kb.calendar import json_value
from kb.db import UnitOfWork, make_engine, make_session_factory
from service.cli_errors import KbGroup
from service.config import Settings
from service.context import system_clock

ROOT = Path(__file__).resolve().parents[1]


class Env:
    """The settings and database access for commands, built on first use."""

    def __init__(self):
        self._settings: Settings | None = None
        self._factory = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:  # a bad entry stops the command here, as it stops kb serve
                self._settings = Settings.from_env()
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
        return self._settings

    @property
    def url(self) -> str:
        return self.settings["DATABASE_URL"]

    def uow(self, write: bool = True) -> UnitOfWork:
        if self._factory is None:
            self._factory = make_session_factory(make_engine(self.url))
        return UnitOfWork(self._factory, write=write)


pass_env = click.make_pass_decorator(Env, ensure=True)


@click.group(cls=KbGroup)
@click.version_option(package_name="kb-service", prog_name="kb", message="%(prog)s %(version)s")
def main() -> None:
    """kb-service: 12345 热线知识库."""


@main.command()
@pass_env
def migrate(env: Env) -> None:
    """Bring the database schema to the latest migration."""
    from kb.categories_seed import ensure_seed_data
    from kb.migrate import upgrade

    upgrade(env.url, secret_box=env.settings.secret_box)
    ensure_seed_data(env.uow, system_clock)
    click.echo(f"database at the latest schema: {env.url}")


@main.command("create-unit")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice(["town", "department", "company", "community", "other"]))
@click.option("--parent", "parent_code", default=None)
@pass_env
def create_unit(env: Env, code, name, kind, parent_code) -> None:
    """Create a unit (承办单位)."""
    from kb.models import UnitKind
    from kb.services import directory

    unit = directory.create_unit(env.uow(), None, code=code, name=name, kind=kind, parent_code=parent_code,
                                 now=system_clock())
    click.echo(json.dumps({"id": unit.id, "code": unit.code, "name": unit.name, "kind": unit.kind,
                           "kind_label": UnitKind(unit.kind).label, "parent_code": unit.parent_code,
                           "liaison_name": unit.liaison_name, "liaison_phone": unit.liaison_phone},
                          ensure_ascii=False))


@main.command("create-user")
@click.option("--name", required=True)
@click.option("--role", required=True,
              type=click.Choice(["operator", "maintainer", "unit_reviewer", "office_admin", "scorer"]))
@click.option("--unit", "unit_code", default=None, help="unit code; required for maintainer and unit_reviewer")
@click.option("--username", default=None, help="console log-in name")
@click.option("--password", default=None, help="console password (prompted for when --username is given without it)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@pass_env
def create_user(env: Env, name, role, unit_code, username, password, as_json) -> None:
    """Create a user and print its token (shown only this once); with --username, one who can log in."""
    from kb.services import directory
    from service.config import token_ttl

    if username and password is None:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    user, token = directory.create_user(env.uow(), None, name=name, role=role, unit_code=unit_code,
                                        now=system_clock(), username=username, password=password,
                                        token_ttl=token_ttl(env.settings))
    if as_json:
        click.echo(json.dumps({"id": user.id, "name": name, "role": role, "unit_code": unit_code,
                               "username": username, "token": token}, ensure_ascii=False))
    else:
        click.echo(f"user {user.id} ({role}) created; token (shown once): {token}")


@main.command("set-password")
@click.option("--username", required=True)
@click.option("--password", default=None, help="prompted for when not given")
@pass_env
def set_password(env: Env, username, password) -> None:
    """Set a console user's password (e.g. the first office account's); the user's sessions end."""
    from sqlalchemy import select

    from kb.errors import NotFound
    from kb.models import User
    from kb.services import accounts

    with env.uow(write=False) as uow:
        user_id = uow.session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise NotFound(f"用户名 {username} 不存在", code="user_not_found")
    if password is None:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    accounts.set_credentials(env.uow(), None, user_id, password=password, now=system_clock())
    click.echo(f"password set for {username}")


@main.command("new-secrets-key")
def new_secrets_key() -> None:
    """Print a new key for KB_SECRETS_KEY (it seals the webhook and robot secrets stored in the database)."""
    from kb.sealing import new_key

    click.echo(new_key())


@main.command("reseal-secrets")
@pass_env
def reseal_secrets(env: Env) -> None:
    """Seal every stored secret with KB_SECRETS_KEY's first key (after putting a new key first); then the
    old keys can be dropped from KB_SECRETS_KEY."""
    from kb.sealing import SecretUnreadable
    from kb.services import sealed_secrets

    try:
        count = sealed_secrets.reseal_all(env.uow(), env.settings.secret_box)
    except SecretUnreadable as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from exc
    click.echo(f"{count} secrets sealed with the first key of KB_SECRETS_KEY")


@main.command("issue-token")
@click.option("--role", required=True,
              type=click.Choice(["operator", "maintainer", "unit_reviewer", "office_admin", "scorer"]))
@click.option("--unit", "unit_code", default=None)
@click.option("--label", default="cli")
@pass_env
def issue_token(env: Env, role, unit_code, label) -> None:
    """Print a new token for the first active user with this role (and unit)."""
    from kb.services import directory

    from service.config import token_ttl

    click.echo(directory.issue_token_for_role(env.uow(), role=role, unit_code=unit_code, label=label,
                                              now=system_clock(), ttl=token_ttl(env.settings)))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="one JSON object per created user")
@click.option("--if-empty", is_flag=True, help="do nothing when the database already has knowledge")
@pass_env
def demo(env: Env, as_json, if_empty) -> None:
    """Load demo units, users and a few hundred entries in every workflow state."""
    from kb.demo import load_demo

    users = load_demo(env.uow, system_clock, skip_if_loaded=if_empty)
    if users is None:
        click.echo("demo already loaded; tokens were printed when it was loaded "
                   "(kb create-user makes a new one)", err=True)
        return
    _close_demo_months(env)
    for user in users:
        if as_json:
            click.echo(json.dumps(user, ensure_ascii=False))
        else:
            login = f"{user['username']} / {user['password']}" if user["username"] else "(token only)"
            click.echo(f"{user['role']:<14} {user['unit_code'] or '-':<8} {login:<28} {user['token']}")


def _close_demo_months(env: Env) -> None:
    """Close the demo's ended months as the scheduler would have, under every profile's deadlines, and
    issue a supervision notice for its longest-overdue task: the monthly 通报 and 督办通知 have data."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from kb import compliance
    from kb.access import Actor
    from kb.models import CorrectionTask, KnowledgeEntry, Role, User
    from kb.models.tasks import OPEN_STATES
    from kb.services import oversight
    from scoring_hooks import scoring

    now = system_clock()
    rule_sets = scoring.rule_sets(env.settings.corrections.rules, dict(env.settings.scoring))
    with env.uow(write=False) as uow:
        first = uow.session.scalar(select(func.min(KnowledgeEntry.created_at)))
        overdue = uow.session.scalar(select(CorrectionTask.id).where(CorrectionTask.state.in_(OPEN_STATES),
                                                                     CorrectionTask.due_at < now)
                                     .order_by(CorrectionTask.due_at).limit(1))
        office_id = uow.session.scalar(select(User.id).where(User.role == Role.OFFICE_ADMIN.value).limit(1))
    last = compliance.last_ended_month(now)
    month = compliance.Period.parse(f"{first.year:04d}-{first.month:02d}") if first else last
    while month.start <= last.start:
        compliance.close_month(env.uow(), month, now=now, rule_sets=rule_sets)
        following = month.end.replace(day=28) + timedelta(days=4)
        month = compliance.Period.parse(f"{following.year:04d}-{following.month:02d}")
    if overdue is not None and office_id is not None:
        oversight.issue_notice(env.uow(), Actor(user_id=office_id, role=Role.OFFICE_ADMIN), overdue, now=now)


@main.command()
@click.option("--index-dir", default=None, help="this host's index folder (default: KB_INDEX_DIR or var/index)")
@click.option("--backend", default=None, type=click.Choice(["tantivy", "whoosh"]))
@pass_env
def reindex(env: Env, index_dir, backend) -> None:
    """Rebuild this host's search index from the database."""
    import time

    from kb.search.embedding import embedder_from_setting
    from kb.search.sync import SearchIndex

    index = SearchIndex(env.uow, backend or env.settings["SEARCH_BACKEND"],
                        Path(index_dir or env.settings["INDEX_DIR"]),
                        embedder=embedder_from_setting(env.settings["EMBEDDER"]))
    started = time.perf_counter()
    count = index.rebuild()
    click.echo(f"indexed {count} published entries in {time.perf_counter() - started:.1f} s")


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--unit", "unit_code", required=True, help="the unit whose knowledge this is; imports as its maintainer")
@click.option("--dry-run", is_flag=True, help="check every row, store nothing")
@click.option("--submit", is_flag=True, help="submit the created change requests for unit review")
@pass_env
def import_knowledge(env: Env, file, unit_code, dry_run, submit) -> None:
    """Import knowledge from an .xlsx or .csv file (the template's columns): all rows or none."""
    from kb.services import imports
    from service import config
    from service.cli_errors import CliFailure
    from service.schemas.imports import ImportReportSchema

    settings = config.from_env()
    data = Path(file).read_bytes()
    report = imports.import_file(
        env.uow(), imports.maintainer_of(env.uow(write=False), unit_code), data=data, file_name=Path(file).name,
        now=system_clock(), dry_run=dry_run, submit=submit, max_rows=settings["IMPORT_MAX_ROWS"],
        max_bytes=settings["IMPORT_MAX_BYTES"])
    _echo_json(ImportReportSchema().dump(report))  # the report as the API answers it
    if report.errors:
        failing = len({e.row for e in report.errors})
        raise CliFailure(f"{failing} 行数据有误（共 {report.rows} 行），未导入任何内容",
                         f"{failing} rows failed their checks; nothing was imported")


def _sqlite_path(url: str) -> Path:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        raise click.ClickException("kb backup / kb restore copy a SQLite database; for PostgreSQL use pg_dump -Fc "
                                   "and pg_restore --clean (docs/operations.md)")
    return Path(parsed.database)


BACKUP_DATABASE, BACKUP_ATTACHMENTS = "kb.sqlite3", "attachments"


def _local_attachment_dir(env: Env) -> Path | None:
    """The folder of attachment files when they are kept on this host (KB_ATTACHMENT_STORE=local)."""
    return Path(env.settings["ATTACHMENT_DIR"]) if env.settings["ATTACHMENT_STORE"] == "local" else None


@main.command()
@click.argument("dest", type=click.Path(path_type=Path))
@pass_env
def backup(env: Env, dest: Path) -> None:
    """Back up the SQLite database and the attachment files into the new folder DEST, while the service runs.

    The database first (SQLite's online backup: a consistent copy), then the files: files are written once
    and never changed, so every file the copied database names is there. With KB_ATTACHMENT_STORE=s3 the
    files stay in the bucket (keep its versioning on).
    """
    import shutil
    import sqlite3
    from contextlib import closing

    source = _sqlite_path(env.url)
    if dest.exists():
        raise click.ClickException(f"{dest} exists; name a new folder")
    dest.mkdir(parents=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(dest / BACKUP_DATABASE)) as out:
        src.backup(out)
    files = _local_attachment_dir(env)
    copied = 0
    if files is not None and files.is_dir():
        # Temporary upload files (".upload-*") are half-written by definition: not part of the backup.
        shutil.copytree(files, dest / BACKUP_ATTACHMENTS, ignore=shutil.ignore_patterns(".upload-*"))
        copied = sum(1 for path in (dest / BACKUP_ATTACHMENTS).rglob("*") if path.is_file())
    click.echo(f"backed up {source} and {copied} attachment files to {dest}")


@main.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="replace the current database without asking")
@pass_env
def restore(env: Env, src: Path, yes: bool) -> None:
    """Put back the backup folder SRC (kb backup's; stop kb serve and kb scheduler first), then migrate.

    The database is replaced and the attachment files copied back into KB_ATTACHMENT_DIR. The search index
    is rebuilt by the next `kb serve` (it no longer matches the database) or by `kb reindex`. SRC may also
    be a database file alone (a backup of a release before attachments were backed up).
    """
    import shutil
    import sqlite3
    from contextlib import closing

    from kb.migrate import upgrade

    target = _sqlite_path(env.url)
    database = src / BACKUP_DATABASE if src.is_dir() else src
    if not database.is_file():
        raise click.ClickException(f"{src} holds no {BACKUP_DATABASE}: not a backup of kb backup")
    if not yes:
        click.confirm(f"replace {target} with {database}?", abort=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(database)) as backup_db, closing(sqlite3.connect(target)) as live:
        backup_db.backup(live)  # page by page into the live file: its WAL and locks stay consistent
    files, saved = _local_attachment_dir(env), src / BACKUP_ATTACHMENTS
    if files is not None and saved.is_dir():
        shutil.copytree(saved, files, dirs_exist_ok=True)  # files the backup does not name stay, unreferenced
    upgrade(env.url, secret_box=env.settings.secret_box)  # a backup from an older release: to this schema
    click.echo(f"restored {src} into {target}; run kb reindex (or start kb serve) to rebuild the search index")


def default_workers() -> int:
    """One sync worker per core (at least two): a search is CPU-bound (the engine holds the core),
    so more workers only take turns on the cores. Measured at 100k entries on 2 cores: 2 workers
    serve ~600 searches/s at ~3.0 ms of CPU each, 3 workers ~525/s at 3.55 ms, 5 workers ~485/s at
    3.9 ms (docs/search.md). A host whose requests wait on a remote database more than they compute
    gives more with ``--workers``."""
    return max(2, available_cores())


def available_cores() -> int:
    """The cores this process may run on (a container's or taskset's CPU set), not all the host's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def gunicorn_arguments(host: str, port: int, workers: int | None = None, *, access_log: bool = True) -> list[str]:
    """What `kb serve` runs after ``python -m``; benchmarks/bench_http.py starts the same server.

    Sync workers, ``default_workers()`` unless told, each pinned to a core of its own
    (``service.gunicorn_conf``); each request comes on its own connection (the
    reverse proxy's), which sync workers handle best.
    """
    workers = workers or default_workers()
    return ["gunicorn", "--chdir", str(ROOT), "--config", "python:service.gunicorn_conf",
            "--bind", f"{host}:{port}", "--workers", str(workers),
            *(["--access-logfile", "-"] if access_log else []), "wsgi:app"]


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn workers (default: one per core, at least 2)")
@click.option("--no-scheduler", is_flag=True, help="leave scheduled jobs to a separate `kb scheduler`")
def serve(host, port, workers, no_scheduler) -> None:
    """Run the production server (gunicorn)."""
    os.environ.setdefault("KB_RUN_SCHEDULER", "0" if no_scheduler else "1")
    os.execvp(sys.executable, [sys.executable, "-m", *gunicorn_arguments(host, port, workers)])


# --- the correction loop: calendar, scheduler, jobs (docs/corrections.md) ---


def _job_context(env: Env):
    """Engine, unit-of-work factory and job context for the scheduler commands."""
    from kb.jobs import JobContext

    engine = make_engine(env.url)
    factory = make_session_factory(engine)
    return engine, (lambda: UnitOfWork(factory)), JobContext(lambda: UnitOfWork(factory), system_clock,
                                                             env.settings.corrections)


def _echo_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=json_value))  # times as the API shows them


@main.group()
def calendar() -> None:
    """Working-day calendar: the office's overrides and confirmed years."""


@calendar.command("override")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice(["holiday", "working_day"]))
@click.option("--note", default=None, help="why, e.g. the notice the date comes from")
@pass_env
def calendar_override(env: Env, day, kind, note) -> None:
    """Declare DAY a holiday or a working day; open tasks' deadlines are recounted."""
    from kb.services import calendar_admin
    from service.schemas.tasks import OverrideSchema

    _echo_json(OverrideSchema().dump(calendar_admin.set_override(
        env.uow(), None, day.date(), kind=kind, note=note, now=system_clock(), settings=env.settings.corrections)))


@calendar.command("list")
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="only this year's overrides")
@pass_env
def calendar_list(env: Env, year) -> None:
    """The office's overrides (date, kind, note) and the confirmed years."""
    from kb.services import calendar_admin
    from service.schemas.tasks import CalendarSchema

    _echo_json(CalendarSchema().dump(calendar_admin.list_overrides(env.uow(write=False), year=year)))


@calendar.command("delete")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@pass_env
def calendar_delete(env: Env, day) -> None:
    """Remove DAY's override (the official calendar holds again); open tasks' deadlines are recounted."""
    from kb.services import calendar_admin
    from service.schemas.tasks import OverrideDeletedSchema

    _echo_json(OverrideDeletedSchema().dump(calendar_admin.delete_override(
        env.uow(), None, day.date(), now=system_clock(), settings=env.settings.corrections)))


@calendar.command("confirm-year")
@click.argument("year", type=click.IntRange(2000, 2100))
@pass_env
def calendar_confirm_year(env: Env, year) -> None:
    """Confirm YEAR has been entered in full; its deadlines stop being provisional."""
    from kb.services import calendar_admin
    from service.schemas.tasks import ConfirmedYearSchema

    _echo_json(ConfirmedYearSchema().dump(calendar_admin.confirm_year(
        env.uow(), None, year, now=system_clock(), settings=env.settings.corrections)))


@main.command()
@pass_env
def scheduler(env: Env) -> None:
    """Run the scheduled jobs in the foreground (one process runs them; others stand by)."""
    import logging
    import signal
    import threading
    from datetime import timedelta

    from service.jobs import Scheduler

    logging.basicConfig(level=env.settings["LOG_LEVEL"])  # a bad setting stops the scheduler here
    engine, uow_factory, context = _job_context(env)
    runner = Scheduler(engine, uow_factory, system_clock, context.settings,
                       lease_ttl=timedelta(seconds=env.settings.lease_seconds), config=env.settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    runner.start()
    click.echo(f"scheduler {runner.holder} running; jobs run while it holds the lease (Ctrl-C to stop)")
    while not stop.wait(1):
        pass
    runner.shutdown()
    engine.dispose()


@main.command("run-job")
@click.argument("name", type=click.Choice(
    ["mark_overdue", "remind_due_soon", "open_verification_tasks", "open_expiry_tasks", "switch_scheduled_versions",
     "withdraw_expired_notices", "recompute_provisional_deadlines", "deliver_webhooks", "close_month", "notify", "purge_search_log"]))
@pass_env
def run_job(env: Env, name) -> None:
    """Run one job now and print its recorded run (safe alongside the scheduler: jobs are idempotent)."""
    from kb import jobs
    from service.jobs import jobs_for

    engine, _, context = _job_context(env)
    try:
        run = jobs.run_job(name, context, trigger="command", registry=jobs_for(env.settings))
        _echo_json({"id": run.id, "job": run.job, "trigger": run.trigger, "holder": run.holder,
                    "started_at": run.started_at, "finished_at": run.finished_at, "outcome": run.outcome,
                    "counts": run.counts, "error": run.error})
    except Exception as exc:
        raise click.ClickException(f"{name} failed (recorded in job_runs): {exc}") from exc
    finally:
        engine.dispose()
