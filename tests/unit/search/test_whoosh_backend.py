"""Whoosh-only behaviour beyond the shared contract: the multi-process bulk load."""
from __future__ import annotations

import pytest

import kb_search_corpus as corpus
from kb.search.backend import SearchQuery
from kb.search.factory import open_backend


def test_a_bulk_load_into_an_empty_index_uses_several_processes_and_stays_searchable(tmp_path, starter_synonyms):
    backend = open_backend("whoosh", tmp_path / "index", starter_synonyms, bulk_procs=2)
    backend.upsert(corpus.all_documents())
    backend.commit(9)
    assert backend.doc_count() == len(corpus.all_documents())
    assert backend.applied_sequence() == 9
    assert backend.search(SearchQuery("低保怎么申请", corpus.TODAY)).hits[0].entry_id == 22
    # later batches on a non-empty index use the ordinary single writer
    backend.upsert([corpus.make_document(14, question="居住证签注")])
    backend.upsert([corpus.make_document(14, question="居住证签注怎么办")])
    backend.commit(10)
    assert backend.doc_count() == len(corpus.all_documents())
    backend.close()


def test_a_bulk_load_refuses_an_entry_twice(tmp_path, starter_synonyms):
    backend = open_backend("whoosh", tmp_path / "index", starter_synonyms, bulk_procs=2)
    backend.upsert([corpus.make_document(14)])
    with pytest.raises(ValueError):
        backend.upsert([corpus.make_document(14)])
    backend.rollback()
    assert backend.doc_count() == 0
    backend.close()
