"""A worker of `kb serve` loads what search reads before it takes requests, and the master loads the shared
part before forking (issue 18, point 14). Speeds are in benchmarks/bench_workers.py; these tests check that
the first searches read nothing from disk, and that the master opens nothing a worker must not share."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

FIRST_SEARCHES = textwrap.dedent("""
    import builtins, io, json, pathlib, sys
    from service.app import create_app, warm_up
    from kb.services import directory
    from kb.models import Role

    app = create_app({"DATABASE_URL": sys.argv[1], "INDEX_DIR": sys.argv[2], "WARM_UP": sys.argv[3] == "1"})
    ctx = app.extensions["kb"]
    _, token = directory.create_user(ctx.uow(), None, name="话务员", role=Role.OPERATOR, unit_code=None,
                                     now=ctx.now())
    warm_up(app)
    client = app.test_client()
    client.get("/healthz")  # the test client reads werkzeug's package metadata once, warm or not

    def no_reading(*args, **kwargs):
        raise RuntimeError(f"read from disk during an operator's search: {args[:1]}")
    builtins.open = io.open = pathlib.Path.open = no_reading  # from here on, a lazy load fails the request

    headers = {"Authorization": f"Bearer {token}"}
    search = client.get("/api/v1/search", query_string={"q": "juzhuzheng"}, headers=headers)
    recommend = client.post("/api/v1/search/recommend", headers=headers,
                            json={"text": "市民来电反映，小区附近道路夜间施工噪音扰民，希望相关部门尽快处理。"})
    print(json.dumps([search.status_code, recommend.status_code]))
""")


def _first_searches(tmp_path, warm: bool) -> list[int]:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    from kb.migrate import upgrade

    upgrade(url)
    env = {**os.environ, "PYTHONPATH": str(REPO), "KB_LOG_LEVEL": "ERROR"}
    done = subprocess.run([sys.executable, "-c", FIRST_SEARCHES, url, str(tmp_path / "index"), "1" if warm else "0"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_warmed_worker_answers_its_first_pinyin_search_and_recommendation_without_loading_anything(tmp_path):
    assert _first_searches(tmp_path, warm=True) == [200, 200]


@pytest.mark.slow
def test_without_the_warm_up_the_first_searches_would_load_dictionaries(tmp_path):
    """The trap above is real: a cold worker reads the pinyin dictionaries and the IDF table on first use."""
    assert _first_searches(tmp_path, warm=False) != [200, 200]


@pytest.mark.slow
def test_the_gunicorn_master_loads_the_shared_tables_and_opens_no_database_index_or_thread(tmp_path):
    probe = textwrap.dedent("""
        import json, sys, threading
        from service import gunicorn_conf
        gunicorn_conf.on_starting(None)
        from kb.search import analyzer
        print(json.dumps({
            "idf_loaded": analyzer._reference_idf.cache_info().currsize == 1,
            "pinyin_loaded": "pypinyin.pinyin_dict" in sys.modules,
            "app_imported": "service.app" in sys.modules,
            "threads": threading.active_count(),
        }))
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO), "KB_WARM_UP": "1",
           "KB_DATABASE_URL": f"sqlite:///{tmp_path / 'kb.sqlite3'}", "KB_INDEX_DIR": str(tmp_path / "index")}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["idf_loaded"] and facts["pinyin_loaded"] and facts["app_imported"]
    assert facts["threads"] == 1  # nothing started that the forked workers would lose
    assert not (tmp_path / "kb.sqlite3").exists() and not (tmp_path / "index").exists()  # no database, no index


@pytest.mark.slow
def test_with_hybrid_search_on_the_master_loads_the_packaged_encoder_once_for_every_worker(tmp_path):
    """The packaged encoder (the default, or KB_EMBEDDER=use-m3): its weights are loaded before the fork (the
    workers share them), still with no thread started, no onnxruntime graph (each worker makes its own after
    the fork), no database and no index; with hybrid search off nothing of it is loaded."""
    probe = textwrap.dedent("""
        import json, threading
        from service import gunicorn_conf
        gunicorn_conf.on_starting(None)
        from kb.search import embedding
        shared = embedding._SHARED
        print(json.dumps({"loaded": shared is not None and shared._model is not None,
                          "graph": shared is not None and shared._graph is not None,
                          "threads": threading.active_count()}))
    """)
    base = {key: value for key, value in os.environ.items() if key != "KB_EMBEDDER"}
    base.update({"PYTHONPATH": str(REPO), "KB_WARM_UP": "1", "KB_DATABASE_URL": f"sqlite:///{tmp_path / 'kb.sqlite3'}",
                 "KB_INDEX_DIR": str(tmp_path / "index")})
    facts = {}
    for setting in ("default", "use-m3", "off"):
        env = base if setting == "default" else {**base, "KB_EMBEDDER": setting}
        done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        facts[setting] = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["default"] == facts["use-m3"] == {"loaded": True, "graph": False, "threads": 1}
    assert facts["off"] == {"loaded": False, "graph": False, "threads": 1}
    assert not (tmp_path / "kb.sqlite3").exists() and not (tmp_path / "index").exists()
