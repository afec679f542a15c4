"""A rebuild that analyses in worker processes indexes exactly what one process would."""
from __future__ import annotations

import kb_search_corpus as corpus
from kb.search import sync
from kb.search.backend import SearchQuery
from kb.search.factory import open_backend

QUERIES = ("社保断交了怎么补", "社保卡丢了", "公积金租房提取", "孩子上学要什么材料", "结婚登记")


def test_analysis_in_worker_processes_gives_the_same_results_as_in_one(tmp_path, monkeypatch, starter_synonyms):
    monkeypatch.setattr(sync, "PARALLEL_ANALYSIS_ENTRIES", 1)
    results = []
    for processes in (1, 2):
        backend = open_backend("tantivy", tmp_path / f"p{processes}", starter_synonyms, writer_threads=1)
        docs = corpus.all_documents()
        assert sync.write_documents(backend, iter(docs), len(docs), processes) == len(docs)
        backend.commit(7)
        results.append([[(h.entry_id, round(h.score, 4)) for h in backend.search(
            SearchQuery(text=q, today=corpus.TODAY)).hits] for q in QUERIES])
        assert backend.doc_count() == len(corpus.all_documents())
        backend.close()
    assert results[0] == results[1] and all(results[0])
