"""A throwaway PostgreSQL cluster that cannot start is PostgresUnavailable (a loud skip, or a failure under CI)."""
from __future__ import annotations

import pytest

from tests.support import databases
from tests.support.databases import PostgresUnavailable, throwaway_cluster


@pytest.fixture
def fake_binaries(tmp_path, monkeypatch):
    """A bin folder whose initdb and pg_ctl are shell scripts the test writes; the work folder is known."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    workdir = tmp_path / "work"

    def write(name: str, script: str) -> None:
        path = bindir / name
        path.write_text("#!/bin/sh\n" + script)
        path.chmod(0o755)

    write("initdb", 'mkdir -p "$2"\n')
    write("pg_ctl", "exit 0\n")
    monkeypatch.setattr(databases.glob, "glob", lambda pattern: [str(bindir / "pg_ctl")])
    monkeypatch.setattr(databases.tempfile, "mkdtemp", lambda prefix: str(workdir.mkdir() or workdir))
    monkeypatch.setattr(databases.os, "geteuid", lambda: 1000)
    return write, workdir


def test_an_initdb_failure_is_postgres_unavailable_with_its_message(fake_binaries):
    write, workdir = fake_binaries
    write("initdb", 'echo "initdb: error: could not create directory: Permission denied" >&2\nexit 1\n')
    with pytest.raises(PostgresUnavailable, match="initdb failed .*Permission denied"):
        with throwaway_cluster():
            pass
    assert not workdir.exists()


def test_a_pg_ctl_start_failure_is_postgres_unavailable_with_the_log(fake_binaries):
    write, workdir = fake_binaries
    write("pg_ctl", 'if [ "$7" = "start" ] || [ "$8" = "start" ]; then echo "FATAL:  could not bind" > "$4"; '
                    'echo "pg_ctl: could not start server" >&2; exit 1; fi\n')
    with pytest.raises(PostgresUnavailable, match="pg_ctl start failed .*could not bind"):
        with throwaway_cluster():
            pass
    assert not workdir.exists()


def test_a_missing_tool_is_postgres_unavailable(fake_binaries, tmp_path):
    (tmp_path / "bin" / "initdb").unlink()
    with pytest.raises(PostgresUnavailable, match="initdb could not be run"):
        with throwaway_cluster():
            pass


def test_root_without_a_postgres_user_is_postgres_unavailable(fake_binaries, monkeypatch):
    monkeypatch.setattr(databases.os, "geteuid", lambda: 0)

    def no_such_user(path, user):
        raise LookupError(f"no such user: {user!r}")

    monkeypatch.setattr(databases.shutil, "chown", no_such_user)
    with pytest.raises(PostgresUnavailable, match="postgres user"):
        with throwaway_cluster():
            pass


def test_a_cluster_that_starts_is_yielded_and_stopped(fake_binaries):
    write, workdir = fake_binaries
    with throwaway_cluster() as url:
        assert url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
        assert (workdir / "data").exists()
    assert not workdir.exists()
