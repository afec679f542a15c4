"""Startup finds this host's index missing, behind, built by another analyzer or being rebuilt, and copes."""
from __future__ import annotations

import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest

from kb.db import UnitOfWork
from kb.search import analyzer
from kb.search.backend import SearchQuery
from kb.search.sync import SearchIndex
from tests.integration.test_search_durability import _world

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 2)


@pytest.fixture
def host(committed_database_url):
    """A committed database with units and people, and a way to publish into it."""
    world, factory = _world(committed_database_url)
    cats = world.seed_categories()
    unit = world.make_unit()
    people = [world.make_user(role, unit if role != "office_admin" else None)[0]
              for role in ("maintainer", "unit_reviewer", "office_admin")]

    def publish(question: str, **proposal) -> int:
        return world.publish_new(*people, cats["社会民生"], question=question, **proposal).entry_id

    def index(path: Path, kind: str = "tantivy", **options) -> SearchIndex:
        options.setdefault("today", lambda: TODAY)
        return SearchIndex(lambda write=True: UnitOfWork(factory, write=write), kind, path, **options)

    return type("Host", (), {"url": committed_database_url, "publish": staticmethod(publish),
                             "index": staticmethod(index)})


def found(index: SearchIndex, text: str) -> int | None:
    """The best hit's entry id."""
    hits = index.search(SearchQuery(text=text, today=TODAY)).hits
    return hits[0].entry_id if hits else None


def test_a_missing_index_is_built_at_startup(host, tmp_path):
    entry = host.publish("老年人优待证在哪里办理？")
    index = host.index(tmp_path / "index")
    index.open()
    assert index.last_repair == "missing"
    assert found(index, "老年人优待证") == entry
    assert (tmp_path / "index" / "CURRENT").read_text().strip() == index.generation


def test_an_index_behind_the_outbox_catches_up_at_startup_without_a_rebuild(host, tmp_path):
    first = host.publish("老年人优待证在哪里办理？")
    index = host.index(tmp_path / "index")
    index.open()
    generation, applied = index.generation, index.backend.applied_sequence()
    index.close()
    second = host.publish("犬只登记需要什么手续？")  # published while this host's index was down

    restarted = host.index(tmp_path / "index")
    restarted.open()
    assert restarted.last_repair is None and restarted.generation == generation
    assert restarted.backend.applied_sequence() > applied
    assert found(restarted, "犬只登记") == second and found(restarted, "老年人优待证") == first


def test_an_index_built_from_entries_loaded_without_outbox_rows_is_not_rebuilt_at_every_startup(host, tmp_path):
    from sqlalchemy import delete

    from kb.models import SearchOutbox

    entry = host.publish("老年人优待证在哪里办理？")
    _, factory = _world(host.url)
    with factory() as session:  # as after a bulk load straight into the tables
        session.execute(delete(SearchOutbox))
        session.commit()
    first = host.index(tmp_path / "index")
    first.open()
    assert first.last_repair == "missing" and first.backend.applied_sequence() == 0
    generation = first.generation
    first.close()
    again = host.index(tmp_path / "index")
    again.open()
    assert again.last_repair is None and again.generation == generation
    assert found(again, "老年人优待证") == entry


@pytest.mark.parametrize("kind", ["tantivy", "whoosh"])
def test_an_index_built_by_another_analyzer_version_is_rebuilt_at_startup(host, tmp_path, monkeypatch, kind):
    entry = host.publish("老年人优待证在哪里办理？")
    index = host.index(tmp_path / "index", kind)
    index.open()
    old_generation = index.generation
    index.close()
    monkeypatch.setattr(analyzer, "ANALYZER_VERSION", analyzer.ANALYZER_VERSION + 1)

    restarted = host.index(tmp_path / "index", kind)
    restarted.open()
    assert restarted.last_repair == "analyzer"
    assert restarted.generation != old_generation
    assert restarted.backend.analyzer_version() == analyzer.ANALYZER_VERSION
    assert found(restarted, "老年人优待证") == entry


def test_searches_keep_the_previous_index_while_another_process_rebuilds(host, tmp_path, monkeypatch):
    entry = host.publish("老年人优待证在哪里办理？")
    serving = host.index(tmp_path / "index")
    serving.open()
    before = serving.generation

    from kb.search import sync

    halfway, resume = threading.Event(), threading.Event()
    real_write = sync.write_documents

    def slow_write(*args, **kwargs):
        written = real_write(*args, **kwargs)
        halfway.set()
        assert resume.wait(30)
        return written

    monkeypatch.setattr(sync, "write_documents", slow_write)
    reindex = host.index(tmp_path / "index")  # kb reindex in another process
    worker = threading.Thread(target=reindex.rebuild)
    worker.start()
    assert halfway.wait(30)
    assert found(serving, "老年人优待证") == entry  # the old generation, not an empty index
    assert serving.generation == before

    starting = host.index(tmp_path / "index")  # a worker starting meanwhile: serves the old generation
    starting.open()
    assert found(starting, "老年人优待证") == entry
    resume.set()
    worker.join(30)
    assert found(serving, "老年人优待证") == entry
    assert serving.generation == reindex.generation != before  # followed the pointer


def test_a_large_startup_rebuild_runs_in_the_background_and_is_switched_to_when_done(host, tmp_path):
    entry = host.publish("老年人优待证在哪里办理？")
    index = host.index(tmp_path / "index", background_rebuild_entries=0)
    index.open()
    assert index.wait_for_rebuild(30)
    assert index.last_repair == "missing" and found(index, "老年人优待证") == entry
    assert index.health()["rebuilding"] is False


STARTING_WORKER = r"""
import sys, time
from datetime import date
from kb.search import tantivy_backend
from kb.search.backend import SearchQuery
from service.app import create_app

real_upsert = tantivy_backend.TantivyBackend.upsert_analyzed

def slow_upsert(self, docs):  # hold the rebuild long enough for the other workers to collide with it
    real_upsert(self, docs)
    time.sleep(3)

tantivy_backend.TantivyBackend.upsert_analyzed = slow_upsert
app = create_app({"DATABASE_URL": sys.argv[1], "INDEX_DIR": sys.argv[2], "RUN_SCHEDULER": False})
result = app.extensions["kb"].search.search(SearchQuery(text="老年人优待证", today=date(2026, 11, 2)))
print("best", result.hits[0].entry_id if result.hits else None, flush=True)
"""


def test_several_workers_starting_on_the_same_fresh_index_folder_all_start(host, tmp_path):
    entry = host.publish("老年人优待证在哪里办理？")
    workers = [subprocess.Popen([sys.executable, "-c", STARTING_WORKER, host.url, str(tmp_path / "index")],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(3)]
    outputs = [w.communicate(timeout=120) for w in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
        assert f"best {entry}" in out
    assert len(list((tmp_path / "index").glob("gen-*"))) == 1  # one process rebuilt


def test_the_first_search_of_a_day_moves_the_in_effect_marks_and_finds_exactly_what_is_in_effect(host, tmp_path):
    from datetime import timedelta

    tomorrow = TODAY + timedelta(days=1)
    ending = host.publish("渔船燃油补贴今年怎么申领？", expires_on=TODAY)  # last day today
    starting = host.publish("渔船燃油补贴明年怎么申领？", effective_on=tomorrow)
    index = host.index(tmp_path / "index")
    index.open()
    assert index.backend.effect_day() == TODAY  # the rebuild marked for the service's day

    def found_on(day: date) -> set[int]:
        return {h.entry_id for h in index.search(SearchQuery(text="渔船燃油补贴申领", today=day)).hits}

    assert found_on(TODAY) == {ending}
    assert found_on(tomorrow) == {starting}
    assert index.backend.effect_day() == tomorrow  # moved by that search, for every later one
    assert found_on(tomorrow) == {starting} and found_on(TODAY) == {ending}


def test_a_search_is_answered_when_the_marks_cannot_be_moved(host, tmp_path, monkeypatch):
    from datetime import timedelta

    from kb.search import sync

    tomorrow = TODAY + timedelta(days=1)
    ending = host.publish("渔船燃油补贴今年怎么申领？", expires_on=TODAY)
    index = host.index(tmp_path / "index")
    index.open()

    def database_away(*args, **kwargs):
        raise ConnectionError("database away")

    monkeypatch.setattr(sync, "documents_for", database_away)
    assert [h.entry_id for h in index.search(SearchQuery(text="渔船燃油补贴", today=TODAY)).hits] == [ending]
    assert index.search(SearchQuery(text="渔船燃油补贴", today=tomorrow)).hits == ()  # exact from the dates
    assert index.backend.effect_day() == TODAY  # not moved; tried again after the next commit
