"""Test databases: a fresh SQLite file and a fresh PostgreSQL database per run.

PostgreSQL comes from KB_TEST_DATABASE_URL (default: the server every machine
of ours runs on 127.0.0.1:5432, database `test`). Where none answers, a
throwaway cluster is started from the local PostgreSQL binaries; where there
are none either, the PostgreSQL half is skipped loudly, except under CI=true,
where that is a failure.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class PostgresUnavailable(RuntimeError):
    pass


def _answers(url: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(command: list[str], what: str, log: Path | None = None) -> None:
    """Run a PostgreSQL tool; any failure is PostgresUnavailable, with the tool's (or its log's) last words."""
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, errors="replace")
    except subprocess.CalledProcessError as exc:
        lines = (exc.stderr or exc.stdout or "").strip().splitlines()
        if log is not None and log.exists():
            lines += log.read_text(errors="replace").strip().splitlines()
        raise PostgresUnavailable(f"{what} failed (exit {exc.returncode}): {lines[-1] if lines else 'no output'}") \
            from exc
    except OSError as exc:
        raise PostgresUnavailable(f"{what} could not be run: {exc}") from exc


def _run_as_postgres(workdir: Path) -> list[str]:
    """initdb refuses to run as root: then the cluster belongs to the postgres user."""
    if os.geteuid() != 0:
        return []
    try:
        shutil.chown(workdir, "postgres")
    except (LookupError, OSError) as exc:
        raise PostgresUnavailable(f"running as root, and the cluster cannot be given to a postgres user: {exc}") \
            from exc
    return ["runuser", "-u", "postgres", "--"]


@contextmanager
def throwaway_cluster():
    """initdb + pg_ctl from /usr/lib/postgresql/*/bin into a temporary folder, removed afterwards."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) or [shutil.which("pg_ctl") or ""]
    pg_ctl = candidates[-1]
    if not pg_ctl or not Path(pg_ctl).exists():
        raise PostgresUnavailable("no PostgreSQL server answered and no local PostgreSQL binaries were found")
    bindir = Path(pg_ctl).parent
    workdir = Path(tempfile.mkdtemp(prefix="kb-pg-"))
    data = workdir / "data"
    run_as: list[str] = []
    try:
        run_as = _run_as_postgres(workdir)
        port = _free_port()
        _run(run_as + [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"], "initdb")
        _run(run_as + [str(pg_ctl), "-D", str(data), "-l", str(workdir / "log"), "-w", "-o",
                       f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1", "start"], "pg_ctl start",
             log=workdir / "log")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if data.exists():
            subprocess.run(run_as + [str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def postgres_server():
    named = os.environ.get("KB_TEST_DATABASE_URL")
    url = named or DEFAULT_PG_URL
    if _answers(url):
        yield url
        return
    shown = make_url(url).render_as_string(hide_password=True)
    message = (f"KB_TEST_DATABASE_URL={shown} did not answer: testing a throwaway PostgreSQL cluster instead"
               if named else f"no PostgreSQL at {shown}: testing a throwaway PostgreSQL cluster")
    warnings.warn(message, stacklevel=2)
    print(f"\n*** {message} ***", file=sys.__stderr__, flush=True)  # plainly, whatever pytest captures
    with throwaway_cluster() as cluster_url:
        deadline = time.monotonic() + 20
        while not _answers(cluster_url):
            if time.monotonic() > deadline:
                raise PostgresUnavailable("the throwaway PostgreSQL cluster did not answer")
            time.sleep(0.2)
        yield cluster_url


@contextmanager
def fresh_postgres_database(server_url: str):
    """A database of our own on the server, dropped afterwards, so parallel runs never collide."""
    name = f"kb_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
