"""Without KB_SECRET_KEY, a host keeps one key in a file: every worker signs cookies alike, across restarts."""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

from flask import Flask

from service.web.session import secret_key


def _key_of(path: str) -> str:
    app = Flask("worker")
    app.config["SECRET_KEY_FILE"] = path
    return secret_key(app)


def test_workers_starting_together_share_one_key_kept_private(tmp_path):
    path = str(tmp_path / "var" / "secret_key")
    with ProcessPoolExecutor(4) as pool:
        keys = set(pool.map(_key_of, [path] * 8))
    assert len(keys) == 1 and len(keys.pop()) >= 40
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert os.listdir(tmp_path / "var") == ["secret_key"]  # no temporary files left


def test_a_key_set_in_the_settings_wins(tmp_path):
    app = Flask("x")
    app.config.update(SECRET_KEY="from-settings", SECRET_KEY_FILE=str(tmp_path / "k"))
    assert secret_key(app) == "from-settings" and not (tmp_path / "k").exists()
