"""Hybrid search: the lexical index fused with the packaged sentence encoder's vectors, on both backends."""
from __future__ import annotations

import os

from collections.abc import Iterator

import numpy as np
import pytest

import kb_search_corpus as corpus
from kb.search import embedding, pipeline
from kb.search.backend import SearchBackend, SearchQuery
from kb.search.hybrid import FusionWeights, fuse, hybrid_search
from kb.search.vectors import COMPACT_ROWS, VectorStore


@pytest.fixture(scope="session")
def encoder() -> embedding.Embedder:
    return embedding.shared_encoder()


@pytest.fixture(scope="session")
def encode_query(encoder) -> embedding.QueryEncoder:
    return embedding.QueryEncoder(encoder)


@pytest.fixture(scope="module")
def corpus_vectors(tmp_path_factory, encoder) -> Iterator[VectorStore]:
    store = VectorStore(tmp_path_factory.mktemp("vectors"))
    store.build(((d.entry_id, pipeline.phrasings(d)) for d in corpus.all_documents()), encoder.encode,
                encoder.name, encoder.dimensions, applied_sequence=1)
    yield store
    store.close()


def hybrid(backend: SearchBackend, vectors: VectorStore, encode_query, text: str, **options):
    return hybrid_search(backend, vectors, encode_query, SearchQuery(text, corpus.TODAY, **options))


def test_an_entry_found_by_both_sides_ranks_above_one_found_first_by_a_single_side():
    fused = fuse([1, 2, 3], [4, 2, 5], FusionWeights(1.0, 1.0))
    assert [entry for entry, _ in fused][:2] == [2, 1]


def test_a_zero_semantic_weight_keeps_the_lexical_order():
    fused = fuse([3, 1, 2], [2, 9, 1], FusionWeights(1.0, 0.0))
    assert [entry for entry, _ in fused][:3] == [3, 1, 2]


def test_a_caller_s_own_words_find_an_entry_sharing_no_word_with_them(loaded_backend, corpus_vectors,
                                                                    encode_query):
    text = "水龙头拧开没有水"  # 小区突然停水什么时候恢复供水 / 家里没水了怎么回事
    lexical = loaded_backend.search(SearchQuery(text, corpus.TODAY))
    assert 28 not in [h.entry_id for h in lexical.hits]
    hits = hybrid(loaded_backend, corpus_vectors, encode_query, text).hits
    found = {h.entry_id: h for h in hits[:3]}
    assert 28 in found
    # no word in common: the snippet is the phrasing that matched by meaning
    assert found[28].highlights["matched_question"] == "家里没水了怎么回事"
    assert found[28].payload["unit_code"] == "SWJ"


def test_entries_not_in_effect_are_never_found_by_meaning(loaded_backend, corpus_vectors, encode_query):
    # the expired 2023 residents' medical insurance entry is among the nearest phrasings of these
    for text in ("丢了医保卡", "居民医保什么时候交钱", "2023年居民医保怎么交", "社保断交了以后能补吗"):
        hits = hybrid(loaded_backend, corpus_vectors, encode_query, text, limit=20).hits
        assert not {h.entry_id for h in hits} & corpus.NEVER_SHOWN, text


def test_filters_hold_for_entries_found_by_meaning(loaded_backend, corpus_vectors, encode_query):
    by_unit = hybrid(loaded_backend, corpus_vectors, encode_query, "孩子刚生下来要去哪登记", unit_codes=("GAJ",),
                     limit=20)
    assert 12 in {h.entry_id for h in by_unit.hits}
    assert {h.payload["unit_code"] for h in by_unit.hits} == {"GAJ"}
    other_unit = hybrid(loaded_backend, corpus_vectors, encode_query, "水龙头拧开没有水", unit_codes=("RQ", "GAJ"),
                        limit=20)
    assert 28 not in {h.entry_id for h in other_unit.hits}
    by_category = hybrid(loaded_backend, corpus_vectors, encode_query, "孩子刚生下来要去哪登记",
                         category_id=31, limit=20)
    assert by_category.hits and {h.entry_id for h in by_category.hits} <= {11, 12}


def test_pages_of_a_hybrid_result_do_not_overlap(loaded_backend, corpus_vectors, encode_query):
    first = hybrid(loaded_backend, corpus_vectors, encode_query, "社保卡丢了怎么办", limit=3)
    second = hybrid(loaded_backend, corpus_vectors, encode_query, "社保卡丢了怎么办", limit=3, offset=3)
    assert first.hits[0].entry_id == 2
    assert len(second.hits) == 3
    assert not {h.entry_id for h in first.hits} & {h.entry_id for h in second.hits}
    assert (first.total, first.total_exact) == (4, False)  # as the backends count: one past the page, "at least"


def test_filtered_pages_are_the_slices_of_one_long_page_and_a_short_result_is_counted_exactly(
        loaded_backend, corpus_vectors, encode_query):
    # entries found by meaning alone are checked against the filters only as they reach a page: every page
    # must still be the slice of the same ranking, and never show an entry the filter excludes
    # 社保卡丢了怎么办: a dozen candidates by meaning alone, two of them not in effect, most of another unit
    for text, options in (("社保卡丢了怎么办", {}), ("社保卡丢了怎么办", {"unit_codes": ("YBJ", "MZJ")}),
                          ("孩子刚生下来要去哪登记", {"unit_codes": ("GAJ",)}),
                          ("水龙头拧开没有水", {"unit_codes": ("SWJ", "GAJ")})):
        whole = hybrid(loaded_backend, corpus_vectors, encode_query, text, limit=9, **options)
        pages = [hybrid(loaded_backend, corpus_vectors, encode_query, text, limit=3, offset=offset, **options)
                 for offset in (0, 3, 6)]
        assert [h.entry_id for p in pages for h in p.hits] == [h.entry_id for h in whole.hits], text
        # the same ranking as when every candidate is checked first (exact_total): no page is left short
        for offset, page in zip((0, 3, 6), pages):
            checked_first = hybrid(loaded_backend, corpus_vectors, encode_query, text, limit=3, offset=offset,
                                   exact_total=True, **options)
            assert [h.entry_id for h in page.hits] == [h.entry_id for h in checked_first.hits], (text, offset)
        assert not {h.entry_id for h in whole.hits} & corpus.NEVER_SHOWN
        if "unit_codes" in options:
            assert {h.payload["unit_code"] for h in whole.hits} <= set(options["unit_codes"])
    short = hybrid(loaded_backend, corpus_vectors, encode_query, "孩子刚生下来要去哪登记", unit_codes=("GAJ",),
                   limit=50)
    assert short.total_exact and short.total == len(short.hits)
    counted = hybrid(loaded_backend, corpus_vectors, encode_query, "孩子刚生下来要去哪登记", unit_codes=("GAJ",),
                     limit=50, exact_total=True)
    assert (counted.total, counted.total_exact) == (short.total, True)


def test_facets_count_the_entries_found_by_meaning(loaded_backend, corpus_vectors, encode_query):
    result = hybrid(loaded_backend, corpus_vectors, encode_query, "水龙头拧开没有水", facets=True, limit=20)
    assert result.facets["unit"].get("SWJ", 0) >= 1
    assert sum(result.facets["unit"].values()) == result.total


def test_changed_and_withdrawn_entries_leave_their_old_vectors_behind(tmp_path, encoder, encode_query):
    store = VectorStore(tmp_path / "vectors")
    store.build([(1, ["居住证如何申领"]), (2, ["身份证掉了怎么补"])], encoder.encode, encoder.name,
                encoder.dimensions, applied_sequence=1)
    store.apply([(1, ["家里没水了怎么回事"])], deleted={2}, encode=encoder.encode, applied_sequence=2)
    reopened = VectorStore(tmp_path / "vectors")
    assert reopened.applied_sequence() == 2
    nearest = reopened.nearest(encode_query("身份证丢了"), 5)
    assert [entry for entry, _, _ in nearest] == [1]  # entry 2 is gone; entry 1 now says something else
    assert nearest[0][1] < 0.5


def test_a_large_delta_is_folded_into_the_base_and_searches_the_same(tmp_path, monkeypatch, encoder,
                                                                     encode_query):
    monkeypatch.setattr("kb.search.vectors.COMPACT_ROWS", 2)
    store = VectorStore(tmp_path / "vectors")
    store.build([(1, ["居住证如何申领"]), (2, ["身份证掉了怎么补"])], encoder.encode, encoder.name,
                encoder.dimensions, applied_sequence=1)
    store.apply([(3, ["新生儿出生后怎么落户", "宝宝上户口需要什么"]), (4, ["二手房怎么过户"])], deleted={1},
                encode=encoder.encode, applied_sequence=2)
    state = (tmp_path / "vectors" / "state.json").read_text()
    assert '"delta": null' in state  # folded
    assert len(list((tmp_path / "vectors").glob("base-*.usearch"))) == 1  # the old base removed
    nearest = VectorStore(tmp_path / "vectors").nearest(encode_query("小孩刚出生怎么上户口"), 5)
    assert nearest[0][0] == 3 and 1 not in {entry for entry, _, _ in nearest}
    assert COMPACT_ROWS > 1000  # the shipped threshold keeps folding rare


def test_the_packaged_encoder_needs_nothing_from_the_network_and_gives_unit_vectors(encoder):
    vectors = encoder.encode(["社保卡丢了怎么办", "社会保障卡丢失如何挂失和补办", "新房燃气开户怎么办理"])
    assert vectors.shape == (3, encoder.dimensions)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert encoder.name.startswith("use-m3/")


def test_search_is_hybrid_by_default_and_the_setting_turns_it_off_or_names_a_model_folder(tmp_path):
    assert embedding.embedder_from_setting(None) is embedding.shared_encoder()  # the packaged encoder
    assert embedding.embedder_from_setting("use-m3") is embedding.shared_encoder()
    assert embedding.embedder_from_setting("off") is None
    with pytest.raises(embedding.EmbedderUnavailable):
        embedding.embedder_from_setting(str(tmp_path))  # a folder without model.onnx and tokenizer.json
    with pytest.raises(embedding.EmbedderUnavailable):
        embedding.embedder_from_setting("text-embedding-from-the-internet")



def test_a_query_is_encoded_by_the_int8_onnx_graph_to_the_vector_the_package_gives(encoder):
    from kb.search import use_graph

    graph = encoder._query_graph()
    assert graph is not None and graph.quantized  # onnxruntime is installed: queries take the int8 graph
    package = encoder._loaded()
    float_graph = use_graph.QueryGraph(package._model, quantized=False)
    texts = ["社保断交了怎么补", "水龙头拧开没有水", "买了辆电驴怎么弄号牌，需要带什么材料？" * 6, "ETC", "居住证 到期",
             "花呗逾期一天会影响征信吗"]
    for text in texts:
        by_graph = encoder.encode([text])
        assert by_graph.shape == (1, encoder.dimensions)
        expected = package.encode([text])[0]
        assert float(by_graph[0] @ expected) > 0.999, text
        assert float(float_graph.encode(text)[0] @ expected) > 0.9999, text


def test_an_int8_graph_that_strays_gives_way_to_the_float_graph(encoder, monkeypatch, caplog):
    from kb.search import use_graph

    package = encoder._loaded()
    monkeypatch.setattr(use_graph, "QUANTIZED_AGREEMENT", 1.01)  # as on a CPU whose int8 products lose more
    graph = use_graph.query_graph(package._model, package.encode)
    assert graph is not None and not graph.quantized
    assert "int8 onnxruntime graph disagrees" in caplog.text
    assert float(graph.encode("社保断交了怎么补")[0] @ package.encode(["社保断交了怎么补"])[0]) > 0.9999


def test_without_a_working_graph_queries_are_encoded_by_the_package(encoder, monkeypatch, caplog):
    from kb.search import use_graph

    def broken(self, backend, quantized=True):
        raise ImportError("no onnxruntime")

    monkeypatch.setattr(use_graph.QueryGraph, "__init__", broken)
    package = encoder._loaded()
    assert use_graph.query_graph(package._model, package.encode) is None
    assert "encoded with numpy" in caplog.text
    # a graph whose weights are laid out otherwise than the check expects is not used either
    monkeypatch.undo()
    assert use_graph.query_graph(package._model, lambda texts: -package.encode(texts)) is None
    # and the encoder without a graph: the package's numpy code, the same vector
    monkeypatch.setattr(encoder, "_graph", (os.getpid(), None))
    assert float(encoder.encode(["社保断交了怎么补"])[0] @ package.encode(["社保断交了怎么补"])[0]) > 0.9999


def test_searches_at_once_from_several_threads_find_what_they_find_one_at_a_time(loaded_backend, corpus_vectors):
    from concurrent.futures import ThreadPoolExecutor

    texts = ["水龙头拧开没有水", "孩子刚生下来要去哪登记", "社保断交了以后能补吗", "丢了医保卡", "租房能取公积金吗"] * 4
    # no query cache: every search encodes, so the encodings themselves run side by side
    encode = embedding.shared_encoder().encode

    def ranked(text):
        return [h.entry_id for h in hybrid(loaded_backend, corpus_vectors, lambda t: encode([t])[0], text).hits]

    one_at_a_time = [ranked(text) for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(ranked, texts)) == one_at_a_time


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity on this platform")
def test_the_semantic_side_runs_beside_the_lexical_search_unless_the_process_has_one_core(
        loaded_backend, corpus_vectors, encode_query, monkeypatch):
    import threading

    where: list[str] = []

    def encode(text):
        where.append(threading.current_thread().name)
        return encode_query(text)

    def found(text):
        return [h.entry_id for h in hybrid(loaded_backend, corpus_vectors, encode, text).hits]

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    beside = found("孩子刚生下来要去哪登记")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {1})  # a worker `kb serve` pinned to a core
    assert found("孩子刚生下来要去哪登记") == beside and 12 in beside
    assert where[0].startswith("kb-semantic") and where[1] == threading.current_thread().name

    def broken(text):
        raise RuntimeError("encoder failed")

    with pytest.raises(RuntimeError, match="encoder failed"):  # as from another thread: not swallowed
        hybrid(loaded_backend, corpus_vectors, broken, "社保断交了以后能补吗")
