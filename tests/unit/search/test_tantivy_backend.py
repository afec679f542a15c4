"""Tantivy-only behaviour beyond the shared contract."""
from __future__ import annotations

import time

import pytest

import kb_search_corpus as corpus
from kb.search.backend import IndexCorrupt, open_backend


def test_an_auto_refreshing_reader_sees_another_writers_commit_by_itself(tmp_path, starter_synonyms):
    writer = open_backend("tantivy", tmp_path / "index", starter_synonyms)
    reader = open_backend("tantivy", tmp_path / "index", starter_synonyms, auto_refresh=True)
    writer.upsert([corpus.make_document(20)])
    writer.commit(3)
    deadline = time.monotonic() + 5
    while reader.applied_sequence() != 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reader.applied_sequence() == 3
    assert reader.doc_count() == 1
    writer.close()
    reader.close()


def test_segment_checksums_catch_a_flipped_byte(tmp_path, starter_synonyms):
    backend = open_backend("tantivy", tmp_path / "index", starter_synonyms)
    backend.upsert(corpus.all_documents())
    backend.commit(1)
    store = next((tmp_path / "index").glob("*.store"))
    position = store.stat().st_size // 3
    with open(store, "r+b") as handle:  # in place: the open index keeps a valid mapping
        handle.seek(position)
        byte = handle.read(1)[0]
        handle.seek(position)
        handle.write(bytes([byte ^ 0xFF]))
    with pytest.raises(IndexCorrupt):
        backend.check()
    backend.close()
