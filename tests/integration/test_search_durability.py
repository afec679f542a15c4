"""The index follows the database through crashes, restarts and several hosts."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import requests

from kb.db import UnitOfWork, make_engine, make_session_factory
from kb.search.backend import SearchQuery
from kb.search.sync import SearchIndex
from tests.support.factories import World

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 2)


def _world(url):
    from datetime import datetime, timezone
    factory = make_session_factory(make_engine(url))
    return World(factory, lambda: datetime(2026, 11, 2, 2, tzinfo=timezone.utc)), factory


CRASHING_PUBLISHER = r"""
import os, sys
from service.app import create_app
from kb.search.sync import SearchIndex

def die_before_index_write(self):
    os._exit(9)   # the process dies after the commit, before the index is written

app = create_app({"DATABASE_URL": sys.argv[1], "INDEX_DIR": sys.argv[2]})
SearchIndex.catch_up = die_before_index_write
client = app.test_client()
client.post(f"/api/v1/change-requests/{sys.argv[3]}/office-review", json={"decision": "publish"},
            headers={"Authorization": f"Bearer {sys.argv[4]}"})
print("survived", flush=True)
"""


def test_a_crash_between_commit_and_index_write_loses_nothing(committed_database_url, tmp_path):
    world, factory = _world(committed_database_url)
    cats = world.seed_categories()
    unit = world.make_unit("HX", "华山街道办事处", "town")
    maint, _ = world.make_user("maintainer", unit)
    rev, _ = world.make_user("unit_reviewer", unit)
    office, office_token = world.make_user("office_admin")
    from kb.services import changes
    from tests.support.factories import ALL_CHECKS_PASS
    cr = changes.create(world.uow(), maint, kind="new", now=world.clock(),
                        proposal=world.proposal(cats["社会民生"], question="电动自行车怎么上牌照？"))
    changes.submit(world.uow(), maint, cr.id, revision=None, now=world.clock())
    changes.unit_review(world.uow(), rev, cr.id, approve=True, checks=ALL_CHECKS_PASS, reason=None,
                        revision=None, now=world.clock())
    index_dir = tmp_path / "index"
    SearchIndex(lambda write=True: UnitOfWork(factory, write=write), "tantivy", index_dir).open()

    proc = subprocess.run([sys.executable, "-c", CRASHING_PUBLISHER, committed_database_url, str(index_dir),
                           str(cr.id), office_token], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr[-2000:]
    assert "survived" not in proc.stdout

    restarted = SearchIndex(lambda write=True: UnitOfWork(factory, write=write), "tantivy", index_dir)
    restarted.open()  # startup, no manual reindex
    hits = restarted.search(SearchQuery(text="电动自行车上牌", today=TODAY)).hits
    assert hits and hits[0].payload["question"] == "电动自行车怎么上牌照？"


def test_a_corrupt_or_missing_index_is_repaired_at_startup(committed_database_url, tmp_path):
    world, factory = _world(committed_database_url)
    cats = world.seed_categories()
    unit = world.make_unit()
    maint, _ = world.make_user("maintainer", unit)
    rev, _ = world.make_user("unit_reviewer", unit)
    office, _ = world.make_user("office_admin")
    world.publish_new(maint, rev, office, cats["社会民生"], question="老年人优待证在哪里办理？")
    uow = lambda write=True: UnitOfWork(factory, write=write)  # noqa: E731
    index_dir = tmp_path / "index"
    first = SearchIndex(uow, "tantivy", index_dir)
    first.open()
    first.close()
    metas = list(index_dir.glob("gen-*/meta.json"))
    assert metas
    for meta in metas:
        meta.write_text("{not json")
    repaired = SearchIndex(uow, "tantivy", index_dir)
    repaired.open()
    assert repaired.last_repair == "corrupt"
    assert repaired.search(SearchQuery(text="老年人优待证", today=TODAY)).total == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_host(url: str, index_dir: Path, port: int, embedder: str = "off") -> subprocess.Popen:
    env = {**os.environ, "KB_DATABASE_URL": url, "KB_INDEX_DIR": str(index_dir), "KB_RUN_SCHEDULER": "0",
           "KB_EMBEDDER": embedder}
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}",
                             "--workers", "2", "wsgi:app"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _wait_healthy(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode()[-3000:])
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).ok:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise AssertionError("host did not become healthy")


@pytest.mark.slow
def test_two_hosts_with_their_own_index_share_one_postgresql(committed_database_url, tmp_path):
    if not committed_database_url.startswith("postgresql"):
        pytest.skip("several hosts share PostgreSQL; SQLite is the one-machine setup")
    world, _ = _world(committed_database_url)
    cats = world.seed_categories()
    unit = world.make_unit("HX", "华山街道办事处", "town")
    _, maint = world.make_user("maintainer", unit)
    _, rev = world.make_user("unit_reviewer", unit)
    _, office = world.make_user("office_admin")
    _, operator = world.make_user("operator")
    ports = [_free_port(), _free_port()]
    # hybrid search on: each host keeps its own vectors in step too
    hosts = [_start_host(committed_database_url, tmp_path / f"index-{i}", p, embedder="use-m3")
             for i, p in enumerate(ports)]
    try:
        for port, proc in zip(ports, hosts):
            _wait_healthy(port, proc)
        a, b = (f"http://127.0.0.1:{p}/api/v1" for p in ports)

        def call(base, method, path, token, body=None):
            r = requests.request(method, base + path, json=body, headers={"Authorization": f"Bearer {token}"},
                                 timeout=10)
            assert r.status_code < 300, r.text
            return r.json()

        cr = call(a, "POST", "/change-requests", maint, {"kind": "new", "proposal": {
            "question": "犬只登记办理需要什么手续？", "answer": "1. 到派出所登记。", "category_id": cats["社会民生"],
            "effective_on": "2026-01-01"}})
        call(a, "POST", f"/change-requests/{cr['id']}/submit", maint, {})
        call(a, "POST", f"/change-requests/{cr['id']}/unit-review", rev,
             {"approve": True, "checks": {"no_typos": True, "clear": True, "answer_matches": True,
                                          "accurate_with_basis": True}})
        entry_id = call(a, "POST", f"/change-requests/{cr['id']}/office-review", office,
                        {"decision": "publish"})["entry_id"]
        published_at = time.monotonic()
        assert call(a, "GET", "/search?q=犬只登记", office)["total"] == 1  # the publisher sees it at once
        while True:
            if call(b, "GET", "/search?q=犬只登记", operator)["total"] == 1:
                break
            assert time.monotonic() - published_at < 1.0, "host B did not see the publish within a second"
            time.sleep(0.02)
        # in the caller's words, sharing no word with the entry: found by meaning on host B too
        by_meaning = call(b, "GET", "/search?q=家里的狗要去哪办证", operator)["hits"]
        assert by_meaning and by_meaning[0]["entry_id"] == entry_id
        health = [requests.get(f"http://127.0.0.1:{p}/healthz", timeout=5).json() for p in ports]
        assert health[0]["search"]["applied_sequence"] == health[1]["search"]["applied_sequence"] >= 1
        assert health[0]["search"]["vectors"] == health[1]["search"]["vectors"] == 1
        assert json.dumps(health)
    finally:
        for proc in hosts:
            proc.terminate()
        for proc in hosts:
            proc.wait(timeout=20)


def test_the_gap_report_sees_every_workers_searches_within_seconds_without_more_traffic(
        committed_database_url, tmp_path):
    from service.app import create_app

    world, _ = _world(committed_database_url)
    _, operator = world.make_user("operator")
    _, office = world.make_user("office_admin")
    workers = [create_app({"DATABASE_URL": committed_database_url, "INDEX_DIR": str(tmp_path / f"index-{i}"),
                           "CLOCK": world.clock, "RUN_SCHEDULER": False}).test_client() for i in range(2)]
    for client, query in zip(workers, ("护照过期了怎么换", "游艇驾照在哪里考")):
        r = client.get("/api/v1/search", query_string={"q": query}, headers={"Authorization": f"Bearer {operator}"})
        assert r.status_code == 200 and r.json["total"] == 0
    started = time.monotonic()
    while True:  # only worker 0 is asked; worker 1 gets no more requests
        gaps = workers[0].get("/api/v1/search/gaps", headers={"Authorization": f"Bearer {office}"}).json["items"]
        if {g["query"] for g in gaps} == {"护照过期了怎么换", "游艇驾照在哪里考"}:
            break
        assert time.monotonic() - started < 3.0, gaps
        time.sleep(0.1)
