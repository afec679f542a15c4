"""The vectors of hybrid search follow the database as the lexical index does: startup, crashes, other processes."""
from __future__ import annotations

import subprocess
import sys

import pytest

from kb.search import embedding
from kb.search.backend import SearchQuery
from kb.search.sync import VECTORS_FOLDER
from tests.integration.test_search_startup import ROOT, TODAY, host  # noqa: F401  (the fixture)

ELDERLY_CARD = "老年人优待证在哪里办理？"
E_BIKE = "电动自行车怎么上牌照？"
E_BIKE_IN_CALLERS_WORDS = "买了辆电驴怎么弄号牌"  # no word (nor synonym) in common with the entry


@pytest.fixture(scope="module")
def encoder():
    return embedding.shared_encoder()


class RenamedEncoder:
    """The packaged encoder under another name: what a deployment changing its model looks like."""

    dimensions = 512

    def __init__(self, encoder, name):
        self._encoder, self.name = encoder, name

    def encode(self, texts):
        return self._encoder.encode(texts)


def by_meaning(index, text: str) -> dict[int, str | None]:
    """Entry id -> the matched phrasing, for each hit of a hybrid search."""
    return {h.entry_id: h.highlights.get("matched_question")
            for h in index.search(SearchQuery(text=text, today=TODAY)).hits}


@pytest.mark.parametrize("kind", ["tantivy", "whoosh"])
def test_a_new_host_builds_vectors_and_finds_an_entry_by_meaning(host, tmp_path, encoder, kind):
    bike = host.publish(E_BIKE)
    host.publish(ELDERLY_CARD)
    index = host.index(tmp_path / "index", kind, embedder=encoder)
    index.open()
    assert index.last_repair == "missing"
    assert index.health()["vectors"] == 6  # each entry's question and the factory's two similar phrasings
    assert by_meaning(index, E_BIKE_IN_CALLERS_WORDS) == {bike: "电动自行车怎么上牌照？"}
    lexical = index.search(SearchQuery(text=E_BIKE_IN_CALLERS_WORDS, today=TODAY, semantic=False))
    assert bike not in {h.entry_id for h in lexical.hits}


def test_an_index_without_vectors_gets_them_at_startup_and_a_new_model_rebuilds(host, tmp_path, encoder):
    bike = host.publish(E_BIKE)
    lexical_only = host.index(tmp_path / "index")  # built before hybrid search (or with KB_EMBEDDER=off)
    lexical_only.open()
    lexical_only.close()

    hybrid = host.index(tmp_path / "index", embedder=encoder)
    hybrid.open()
    assert hybrid.last_repair == "vectors"
    assert bike in by_meaning(hybrid, E_BIKE_IN_CALLERS_WORDS)
    generation = hybrid.generation
    hybrid.close()

    again = host.index(tmp_path / "index", embedder=encoder)
    again.open()
    assert again.last_repair is None and again.generation == generation

    other_model = host.index(tmp_path / "index", embedder=RenamedEncoder(encoder, "use-m3/next"))
    other_model.open()
    assert other_model.last_repair == "embedder" and other_model.generation != generation
    assert bike in by_meaning(other_model, E_BIKE_IN_CALLERS_WORDS)


def test_unreadable_vectors_are_rebuilt_at_startup(host, tmp_path, encoder):
    bike = host.publish(E_BIKE)
    first = host.index(tmp_path / "index", embedder=encoder)
    first.open()
    first.close()
    for state in (tmp_path / "index").glob(f"gen-*/{VECTORS_FOLDER}/state.json"):
        state.write_text("{not json")
    repaired = host.index(tmp_path / "index", embedder=encoder)
    repaired.open()
    assert repaired.last_repair == "vectors"
    assert bike in by_meaning(repaired, E_BIKE_IN_CALLERS_WORDS)


DIES_BETWEEN_INDEX_AND_VECTORS = r"""
import os, sys
from datetime import date
from kb.db import UnitOfWork, make_engine, make_session_factory
from kb.search import embedding, vectors
from kb.search.sync import SearchIndex

def die(self, *args, **kwargs):
    os._exit(9)  # the lexical index is committed; the vectors are not

vectors.VectorStore.apply = die
factory = make_session_factory(make_engine(sys.argv[1]))
index = SearchIndex(lambda write=True: UnitOfWork(factory, write=write), "tantivy", sys.argv[2],
                    embedder=embedding.shared_encoder(), today=lambda: date(2026, 11, 2))
index.open()
print("survived", flush=True)
"""


def test_a_crash_between_the_lexical_commit_and_the_vectors_loses_nothing(host, tmp_path, encoder):
    host.publish(ELDERLY_CARD)
    index_dir = tmp_path / "index"
    first = host.index(index_dir, embedder=encoder)
    first.open()
    first.close()
    bike = host.publish(E_BIKE)  # while no process of this host runs

    proc = subprocess.run([sys.executable, "-c", DIES_BETWEEN_INDEX_AND_VECTORS, host.url, str(index_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr[-2000:]
    assert "survived" not in proc.stdout

    restarted = host.index(index_dir, embedder=encoder)
    restarted.open()  # no rebuild: the vectors catch up from their own sequence
    assert restarted.last_repair is None
    assert restarted.health()["vectors"] == 6  # two entries, three phrasings each
    assert by_meaning(restarted, E_BIKE_IN_CALLERS_WORDS) == {bike: "电动自行车怎么上牌照？"}


def test_a_publish_is_found_by_meaning_in_the_host_s_other_worker(host, tmp_path, encoder):
    host.publish(ELDERLY_CARD)
    publishing = host.index(tmp_path / "index", embedder=encoder)
    other = host.index(tmp_path / "index", embedder=encoder)
    publishing.open()
    other.open()
    assert by_meaning(other, E_BIKE_IN_CALLERS_WORDS) == {}
    bike = host.publish(E_BIKE)
    publishing.catch_up()  # the publishing worker applies its outbox row before it answers
    assert by_meaning(other, E_BIKE_IN_CALLERS_WORDS) == {bike: "电动自行车怎么上牌照？"}
