"""Small things an operator relies on: `kb --version`, timestamps in log lines, a plain word when the
tests fall back to a throwaway PostgreSQL."""
from __future__ import annotations

import re
import subprocess
import sys
from contextlib import contextmanager

import pytest
from click.testing import CliRunner


def test_kb_version_prints_the_package_version():
    from importlib.metadata import version

    from service.cli import main

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"kb {version('kb-service')}"


def test_log_lines_carry_a_timestamp(tmp_path):
    code = ("import logging; from service.app import create_app; "
            f"create_app({{'DATABASE_URL': 'sqlite://', 'INDEX_DIR': {str(tmp_path / 'i')!r}, "
            "'SEARCH_OPEN_ON_STARTUP': False}); logging.getLogger('kb.check').warning('hello')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    line = next(line for line in out.stderr.splitlines() if line.endswith("hello"))
    assert re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} WARNING \[\d+\] kb.check: hello$", line), line


def test_a_named_test_server_that_does_not_answer_is_said_plainly(monkeypatch, capsys):
    from tests.support import databases

    @contextmanager
    def fake_cluster():
        yield "postgresql+psycopg://postgres@127.0.0.1:1/throwaway"

    monkeypatch.setenv("KB_TEST_DATABASE_URL", "postgresql+psycopg://postgres:secret@typo.invalid:5432/test")
    monkeypatch.setattr(databases, "_answers", lambda url: "throwaway" in url)
    monkeypatch.setattr(databases, "throwaway_cluster", fake_cluster)
    with pytest.warns(UserWarning, match="KB_TEST_DATABASE_URL=.*typo.invalid.* did not answer: testing a throwaway"):
        with databases.postgres_server() as url:
            assert url.endswith("/throwaway")
    assert "secret" not in str(capsys.readouterr())
