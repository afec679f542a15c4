"""Tantivy-only behaviour beyond the shared contract."""
from __future__ import annotations

import dataclasses
import time
from datetime import date

import pytest

import kb_search_corpus as corpus
from kb.search.backend import IndexBusy, IndexCorrupt, SearchQuery
from kb.search.factory import open_backend


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


# -- in-effect marks (see kb.search.tantivy_backend) ---------------------------------
def _dated(entry_id: int, effective: date, expires: date | None):
    base = corpus.all_documents()[0]
    return dataclasses.replace(base, entry_id=entry_id, question=f"渔船柴油补贴第{entry_id}号申领",
                               effective_on=effective, expires_on=expires)


def _found(backend, day: date) -> set[int]:
    return {h.entry_id for h in backend.search(SearchQuery("渔船柴油补贴申领", day, limit=50)).hits}


def _loader(docs):
    by_id = {d.entry_id: d for d in docs}

    def documents(ids):
        asked.append(set(ids))
        return [by_id[i] for i in sorted(ids) if i in by_id], {i for i in ids if i not in by_id}

    asked: list[set[int]] = []
    return documents, asked


def test_marks_move_day_by_day_rewriting_only_what_expired_or_started(tmp_path, starter_synonyms):
    d1 = date(2024, 6, 1)
    docs = [
        _dated(901, date(2024, 1, 1), None),  # in effect throughout
        _dated(902, date(2024, 1, 1), date(2024, 6, 1)),  # last day 1 June
        _dated(903, date(2024, 6, 2), None),  # starts 2 June
        _dated(904, date(2023, 1, 1), date(2023, 12, 31)),  # long expired
    ]
    backend = open_backend("tantivy", tmp_path / "index", starter_synonyms)
    documents, asked = _loader(docs)
    assert backend.mark_effect_day(d1, documents) == 0  # an empty index: nothing to rewrite
    backend.upsert(docs)
    backend.commit(1)
    assert backend.effect_day() == d1
    assert _found(backend, d1) == {901, 902}

    d2 = date(2024, 6, 2)
    assert _found(backend, d2) == {901, 903}  # marks for 1 June; 2 June's answer comes from the dates
    assert backend.mark_effect_day(d2, documents) == 2
    assert asked[-1] == {902, 903}
    assert backend.effect_day() == d2 and backend.applied_sequence() == 1
    assert _found(backend, d2) == {901, 903}
    assert _found(backend, d1) == {901, 902}  # and 1 June is still exact
    assert backend.doc_count() == 4
    backend.close()


def test_an_entry_withdrawn_meanwhile_is_deleted_when_marks_move(tmp_path, starter_synonyms):
    docs = [_dated(911, date(2024, 1, 1), date(2024, 6, 1)), _dated(912, date(2024, 1, 1), None)]
    backend = open_backend("tantivy", tmp_path / "index", starter_synonyms)
    backend.mark_effect_day(date(2024, 6, 1), _loader(docs)[0])
    backend.upsert(docs)
    backend.commit(1)
    documents, _ = _loader(docs[1:])  # the database no longer has 911 published
    backend.mark_effect_day(date(2024, 6, 2), documents)
    assert backend.doc_count() == 1
    backend.close()


def test_marks_do_not_wait_for_another_writer(tmp_path, starter_synonyms):
    docs = [_dated(921, date(2024, 1, 1), date(2024, 6, 1))]
    writer = open_backend("tantivy", tmp_path / "index", starter_synonyms)
    other = open_backend("tantivy", tmp_path / "index", starter_synonyms)
    writer.upsert(docs)  # holds the writer lock until commit
    started = time.monotonic()
    with pytest.raises(IndexBusy):
        other.mark_effect_day(date(2024, 6, 2), _loader(docs)[0])
    assert time.monotonic() - started < 1.0
    writer.commit(1)
    assert other.mark_effect_day(date(2024, 6, 2), _loader(docs)[0]) == 1
    writer.close()
    other.close()

