"""One contract, every backend: what search promises the rest of kb."""
from __future__ import annotations

import dataclasses
import os
import re
from datetime import date
from pathlib import Path

import pytest

import kb_search_corpus as corpus
from kb.search.backend import (
    IndexBusy,
    IndexCorrupt,
    SearchBackend,
    SearchHit,
    SearchQuery,
    SearchResult,
)
from kb.search import pipeline
from kb.search.factory import open_backend
from kb.search.synonyms import SynonymSet

TODAY = corpus.TODAY


def search(backend: SearchBackend, text: str, **options) -> SearchResult:
    return backend.search(SearchQuery(text=text, today=TODAY, **options))


def ids(result: SearchResult | list[SearchHit]) -> list[int]:
    hits = result.hits if isinstance(result, SearchResult) else result
    return [hit.entry_id for hit in hits]


# -- finding the right answer -------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("社保断交了怎么补", 1),  # 社保→社会保险, 断交→中断缴费, 补→补缴
        ("孩子上学要什么材料", 15),  # 上学→入学
        ("低保怎么申请", 22),  # 低保→最低生活保障
        ("公积金怎么取出来", 8),
        ("身份证丢了怎么办", 13),
        ("新农合怎么交", 5),  # 新农合→城乡居民医保
        ("退休金几号发", 4),
        ("房产证丢了", 19),  # 房产证→不动产权证书
        ("领结婚证要带什么", 20),
        ("外地看病报销", 6),
        ("戶口遷移要什麼材料", 11),  # traditional characters fold to simplified
        ("ＳＯＳ", 27),  # full-width folds to half-width, case folds
        ("dibao", 22),  # full pinyin of a synonym term: 低保
    ],
)
def test_everyday_wording_finds_the_right_answer_first(loaded_backend, text, expected):
    result = search(loaded_backend, text)
    assert ids(result)[:1] == [expected], ids(result)


def test_unambiguous_initials_find_their_term(loaded_backend):
    assert ids(search(loaded_backend, "gjj"))[:1] in ([8], [9], [10])  # 公积金: one of its three entries
    assert ids(search(loaded_backend, "sfz丢了"))[:1] == [13]  # 身份证
    assert search(loaded_backend, "qq").total == 0  # no synonym term has these initials


def test_ticket_text_finds_the_matter_it_describes(loaded_backend):
    ticket = (
        "来电人反映，她家孩子今年九月要上小学一年级，她们是外地来本市务工的，"
        "有居住证，但不知道报名入学需要准备哪些材料，房子是租的，担心没有房产证不能报名，"
        "希望相关部门告知小学报名需要的材料和报名时间。"
    )
    result = search(loaded_backend, ticket, mode="ticket")
    assert ids(result)[0] == 15
    assert 16 in ids(result)[:5]


def test_a_ticket_finds_the_question_it_asks_before_one_that_shares_more_of_its_words(loaded_backend):
    ticket = ("来电人反映，单位中断缴纳社会保险后他失业了，想了解失业保险金如何申领，以及中断期间的社会保险费怎么补缴，"
              "补缴要不要滞纳金，缴费年限能否连续计算。")
    # Entry 1's answer (补缴, 滞纳金, 缴费年限, 连续计算) shares more of the ticket's words, and BM25 alone
    # ranks it first; but the ticket asks entry 24's question in so many words.
    assert ids(search(loaded_backend, ticket, mode="ticket"))[:2] == [24, 1]


def test_ticket_pages_follow_the_ranking_across_the_rescored_candidates(loaded_backend, monkeypatch):
    monkeypatch.setattr(pipeline, "TICKET_RESCORE_DEPTH", 7)  # pages of 5 start inside and after it
    ticket = "市民来电咨询办理需要哪些材料，要带居民身份证和户口簿，到派出所或经办机构申请，多少个工作日能办结。"
    everything = search(loaded_backend, ticket, mode="ticket", limit=100)
    assert everything.total == len(everything.hits) > 15
    assert [h.score for h in everything.hits] == sorted((h.score for h in everything.hits), reverse=True)
    for exact in (True, False):
        pages = [search(loaded_backend, ticket, mode="ticket", offset=offset, limit=5, exact_total=exact)
                 for offset in range(0, 15, 5)]
        assert [i for p in pages for i in ids(p)] == ids(everything)[:15]
        for page, offset in zip(pages, range(0, 15, 5)):
            assert page.total == everything.total if page.total_exact else offset + 5 < page.total <= everything.total
    bare = loaded_backend.search(SearchQuery(ticket, TODAY, mode="ticket", limit=100, detail=False))
    assert [(h.entry_id, h.score) for h in bare.hits] == [(h.entry_id, h.score) for h in everything.hits]
    last = search(loaded_backend, ticket, mode="ticket", offset=everything.total - 3, limit=5)
    assert (last.total, last.total_exact, ids(last)) == (everything.total, True, ids(everything)[-3:])


def test_hits_carry_payload_and_score(loaded_backend):
    hit = search(loaded_backend, "居住证").hits[0]
    assert hit.entry_id == 14
    assert hit.payload["unit_name"] == "市公安局"
    assert hit.score > 0


def test_candidates_without_detail_rank_the_same_and_read_no_stored_fields(loaded_backend):
    full = search(loaded_backend, "社保卡丢了怎么办", limit=20)
    bare = loaded_backend.search(SearchQuery("社保卡丢了怎么办", corpus.TODAY, limit=20, detail=False))
    assert [(h.entry_id, round(h.score, 4)) for h in bare.hits] == [(h.entry_id, round(h.score, 4)) for h in full.hits]
    assert all(h.payload == {} and h.highlights == {} for h in bare.hits)


def test_hits_for_named_entries_apply_the_filters_and_the_in_effect_rule(loaded_backend):
    query = SearchQuery("家里没水了", corpus.TODAY, unit_codes=("SWJ", "RSJ"))
    hits = {h.entry_id: h for h in loaded_backend.hits_for({28: 1, 29: 0, 2: None, corpus.EXPIRED_ID: 0}, query)}
    assert set(hits) == {28, 2}  # 29 is another unit's; the expired entry is not in effect
    assert hits[28].highlights["matched_question"] == "<em>家里</em><em>没水</em>了怎么回事"  # the query's words marked
    assert "matched_question" not in hits[2].highlights
    assert hits[28].payload["unit_name"] == "市水务集团"


# -- the in-effect rule ---------------------------------------------------------
def test_expired_and_not_yet_effective_entries_are_never_found(loaded_backend):
    for text in ("2023年度城乡居民医保集中缴费期", "社会保险补缴新规定2030年", "社保断缴补缴新政策"):
        assert corpus.NEVER_SHOWN.isdisjoint(ids(search(loaded_backend, text, limit=50)))
    assert corpus.NEVER_SHOWN.isdisjoint(ids(search(loaded_backend, "居民医保缴费", mode="ticket", limit=50)))


def test_in_effect_is_judged_on_the_query_date(loaded_backend):
    text = "2023年度城乡居民医保集中缴费期"
    during = loaded_backend.search(SearchQuery(text, today=date(2023, 12, 31)))
    after = loaded_backend.search(SearchQuery(text, today=date(2024, 1, 1)))
    assert ids(during)[0] == corpus.EXPIRED_ID
    assert corpus.EXPIRED_ID not in ids(after)
    future = loaded_backend.search(SearchQuery("社会保险补缴新规定", today=date(2030, 1, 1)))
    assert ids(future)[0] == corpus.NOT_YET_ID


def test_suggest_offers_only_in_effect_phrasings(loaded_backend):
    suggestions = loaded_backend.suggest("社保", TODAY)
    assert "社保卡丢了怎么办" in suggestions
    assert "社保断缴补缴新政策" not in suggestions
    assert not any("2023" in s for s in loaded_backend.suggest("2023年度", TODAY))
    assert "2023年度城乡居民医保集中缴费期是什么时候" in loaded_backend.suggest("2023年度", date(2023, 6, 1))


def test_suggest_starts_with_the_typed_prefix_and_folds_script(loaded_backend):
    suggestions = loaded_backend.suggest("戶口", TODAY, limit=3)
    assert suggestions[0] == "户口迁移怎么办理"
    assert len(suggestions) <= 3
    assert loaded_backend.suggest("", TODAY) == []
    assert loaded_backend.suggest("社保", TODAY, limit=0) == []


def test_related_excludes_the_entry_itself_and_entries_not_in_effect(loaded_backend):
    related = ids(loaded_backend.related(8, TODAY, limit=5))
    assert 8 not in related
    assert {9, 10} & set(related[:3])
    assert corpus.NEVER_SHOWN.isdisjoint(ids(loaded_backend.related(1, TODAY, limit=30)))
    assert corpus.NEVER_SHOWN.isdisjoint(ids(loaded_backend.related(5, TODAY, limit=30)))
    assert loaded_backend.related(999, TODAY) == []


# -- filters, facets, pages, highlights ----------------------------------------
def test_category_filter_covers_the_whole_subtree(loaded_backend):
    result = search(loaded_backend, "办理 材料 证明", category_id=1, limit=50)
    assert result.total == len(result.hits) > 0
    assert all(1 in corpus.entry_category(i) for i in ids(result))
    leaf = search(loaded_backend, "办理 材料 证明", category_id=112, limit=50)
    assert leaf.hits and all(corpus.entry_category(i)[-1] == 112 for i in ids(leaf))


def test_unit_filter_keeps_the_given_units(loaded_backend):
    result = search(loaded_backend, "办理 材料 身份证", unit_codes=("GJJ", "BDC"), limit=50)
    assert result.hits
    assert {corpus.entry_unit(i) for i in ids(result)} <= {"GJJ", "BDC"}
    assert search(loaded_backend, "办理", unit_codes=("NOSUCH",)).total == 0


def test_facets_count_every_match_by_leaf_category_and_unit(loaded_backend):
    everything = search(loaded_backend, "身份证 材料", limit=100)
    result = search(loaded_backend, "身份证 材料", facets=True, limit=3)
    assert result.total == everything.total
    expected_categories: dict[int, int] = {}
    expected_units: dict[str, int] = {}
    for entry_id in ids(everything):
        leaf = corpus.entry_category(entry_id)[-1]
        expected_categories[leaf] = expected_categories.get(leaf, 0) + 1
        unit = corpus.entry_unit(entry_id)
        expected_units[unit] = expected_units.get(unit, 0) + 1
    assert dict(result.facets["category"]) == expected_categories
    assert dict(result.facets["unit"]) == expected_units
    assert search(loaded_backend, "身份证").facets == {}


def test_pages_follow_the_ranking_without_gaps_or_repeats(loaded_backend):
    everything = search(loaded_backend, "办理 申请 材料", limit=100)
    assert everything.total == len(everything.hits) > 12
    pages = [search(loaded_backend, "办理 申请 材料", offset=offset, limit=5, exact_total=True)
             for offset in range(0, 15, 5)]
    assert [(p.total, p.total_exact) for p in pages] == [(everything.total, True)] * 3
    assert [i for p in pages for i in ids(p)] == ids(everything)[:15]
    # Without exact_total a backend may stop counting past the page: then the total says "at least".
    cheap = [search(loaded_backend, "办理 申请 材料", offset=offset, limit=5) for offset in range(0, 15, 5)]
    assert [ids(p) for p in cheap] == [ids(p) for p in pages]
    for page, offset in zip(cheap, range(0, 15, 5)):
        assert page.total == everything.total if page.total_exact else offset + 5 < page.total <= everything.total
    last = search(loaded_backend, "办理 申请 材料", offset=everything.total - 3, limit=5)
    assert (last.total, last.total_exact, len(last.hits)) == (everything.total, True, 3)
    beyond = search(loaded_backend, "办理 申请 材料", offset=everything.total + 5)
    assert beyond.total == everything.total and beyond.hits == ()


def test_highlights_mark_matched_words_in_question_and_answer(loaded_backend):
    hit = search(loaded_backend, "公积金贷款额度").hits[0]
    assert hit.entry_id == 9
    assert "<em>" in hit.highlights["question"]
    assert "<em>公积金</em>" in hit.highlights["answer"] or "<em>住房公积金</em>" in hit.highlights["answer"]
    plain_answer = re.sub(r"</?em>|…", "", hit.highlights["answer"])
    assert len(plain_answer) <= 125


def test_highlights_escape_html_in_stored_text(fresh_backend):
    fresh_backend.upsert([corpus.make_document(7, question="门诊<script>报销</script>比例")])
    fresh_backend.commit(1)
    hit = fresh_backend.search(SearchQuery("门诊报销", TODAY)).hits[0]
    assert "<script>" not in hit.highlights["question"]
    assert "&lt;script&gt;" in hit.highlights["question"]


# -- hostile input ----------------------------------------------------------------
WEIRD_INPUT = [
    "", "   ", "\t\n", "AND", "OR", "NOT", "AND OR NOT", "*", "?", '"', '""', "(", ")", "()", ":", "::",
    "title:社保", "question:公积金 AND answer:", "社保 AND 医保", "+社保 -医保", "[1 TO 5]", "{a TO b}",
    "~", "^2", "\\", "/", "社保^100", "公积金~2", "'", "%", "\x00", "\x00社保\x1f\x7f", "\u200b\u200d",
    "😀🏠", "的了吗", "请问怎么办", "a" * 2000, "社保" * 1000, "社 " * 700, "\ufffd", "\U0010ffff",
]


@pytest.mark.parametrize("text", WEIRD_INPUT, ids=lambda t: repr(t[:12]))
def test_any_text_is_searched_without_error(loaded_backend, text):
    for mode in ("query", "ticket"):
        result = search(loaded_backend, text, mode=mode, facets=True)
        assert result.total >= len(result.hits)
    loaded_backend.suggest(text, TODAY)


@pytest.mark.parametrize("text", ["", "   ", "的了吗", "请问怎么办", "？！。", "\x00\x01"])
def test_empty_or_all_stopword_queries_find_nothing(loaded_backend, text):
    result = search(loaded_backend, text, facets=True)
    assert result.total == 0 and result.hits == ()


def test_odd_paging_arguments_are_tolerated(loaded_backend):
    assert search(loaded_backend, "社保", offset=-5).hits
    assert search(loaded_backend, "社保", limit=0).hits == ()
    assert search(loaded_backend, "社保", limit=0).total > 0


# -- writing ------------------------------------------------------------------------
def test_a_new_index_is_empty_with_sequence_zero(fresh_backend):
    assert fresh_backend.doc_count() == 0
    assert fresh_backend.applied_sequence() == 0
    assert search(fresh_backend, "社保").total == 0
    fresh_backend.check()


def test_changes_are_invisible_until_commit(fresh_backend):
    fresh_backend.upsert([corpus.make_document(14)])
    assert search(fresh_backend, "居住证").total == 0
    fresh_backend.commit(1)
    assert ids(search(fresh_backend, "居住证")) == [14]


def test_delete_removes_an_entry(fresh_backend):
    fresh_backend.upsert(corpus.all_documents())
    fresh_backend.commit(1)
    fresh_backend.delete([14, 999])
    fresh_backend.commit(2)
    assert 14 not in ids(search(fresh_backend, "居住证", limit=50))
    assert fresh_backend.doc_count() == len(corpus.all_documents()) - 1
    assert "外地人办居住证要什么" not in fresh_backend.suggest("外地人", TODAY)


def test_upsert_replaces_the_previous_version(fresh_backend):
    fresh_backend.upsert(corpus.all_documents())
    fresh_backend.commit(1)
    fresh_backend.upsert([corpus.make_document(14, question="居住证签注怎么办理", similar_questions=())])
    fresh_backend.commit(2)
    assert fresh_backend.doc_count() == len(corpus.all_documents())
    result = search(fresh_backend, "居住证签注")
    assert ids(result)[0] == 14
    assert "签注" in result.hits[0].highlights["question"]
    assert "外地人办居住证要什么" not in fresh_backend.suggest("外地人", TODAY)


def test_the_last_change_in_a_batch_wins(fresh_backend):
    fresh_backend.upsert([corpus.make_document(14, question="第一版居住证")])
    fresh_backend.upsert([corpus.make_document(14, question="第二版居住证")])
    fresh_backend.delete([13])
    fresh_backend.upsert([corpus.make_document(13)])
    fresh_backend.commit(1)
    assert fresh_backend.doc_count() == 2
    result = search(fresh_backend, "居住证", limit=10)
    assert ids(result).count(14) == 1
    assert "第二版" in result.hits[0].highlights["question"]


def test_rollback_drops_uncommitted_changes(fresh_backend):
    fresh_backend.upsert([corpus.make_document(14)])
    fresh_backend.rollback()
    fresh_backend.commit(3)
    assert fresh_backend.doc_count() == 0
    assert fresh_backend.applied_sequence() == 3


def test_clear_removes_everything_and_resets_the_sequence(fresh_backend):
    fresh_backend.upsert(corpus.all_documents())
    fresh_backend.commit(7)
    fresh_backend.clear()
    assert fresh_backend.doc_count() == 0
    assert fresh_backend.applied_sequence() == 0
    assert search(fresh_backend, "社保").total == 0


def test_the_analyzer_version_is_that_of_the_build_until_cleared(fresh_backend, monkeypatch):
    from kb.search import analyzer

    assert fresh_backend.analyzer_version() is None
    fresh_backend.upsert([corpus.make_document(4)])
    fresh_backend.commit(1)
    built = analyzer.ANALYZER_VERSION
    assert fresh_backend.analyzer_version() == built
    monkeypatch.setattr(analyzer, "ANALYZER_VERSION", built + 1)
    fresh_backend.upsert([corpus.make_document(5)])
    fresh_backend.commit(2)
    assert fresh_backend.analyzer_version() == built  # old documents are still there
    fresh_backend.clear()
    assert fresh_backend.analyzer_version() == built + 1


# -- durability, processes, locks ---------------------------------------------------
def test_applied_sequence_survives_reopening(backend_kind, tmp_path, starter_synonyms):
    first = open_backend(backend_kind, tmp_path / "index", starter_synonyms)
    first.upsert([corpus.make_document(4)])
    first.commit(41)
    first.commit(42)
    first.close()
    again = open_backend(backend_kind, tmp_path / "index", starter_synonyms)
    assert again.applied_sequence() == 42
    assert again.doc_count() == 1
    assert ids(search(again, "养老金")) == [4]
    again.close()


def test_another_instance_sees_a_commit_after_refresh(backend_kind, tmp_path, starter_synonyms):
    writer = open_backend(backend_kind, tmp_path / "index", starter_synonyms)
    reader = open_backend(backend_kind, tmp_path / "index", starter_synonyms)
    assert reader.doc_count() == 0
    writer.upsert([corpus.make_document(20)])
    writer.commit(5)
    reader.refresh()
    assert ids(search(reader, "结婚登记")) == [20]
    assert reader.applied_sequence() == 5
    writer.close()
    reader.close()


def test_a_second_writer_is_told_the_index_is_busy(backend_kind, tmp_path, starter_synonyms):
    first = open_backend(backend_kind, tmp_path / "index", starter_synonyms)
    second = open_backend(backend_kind, tmp_path / "index", starter_synonyms, lock_wait_seconds=0.2)
    first.upsert([corpus.make_document(20)])
    with pytest.raises(IndexBusy):
        second.upsert([corpus.make_document(21)])
    assert search(second, "结婚").total == 0  # readers never block
    first.commit(1)
    second.upsert([corpus.make_document(21)])
    second.commit(2)
    first.refresh()
    assert first.doc_count() == 2
    first.close()
    second.close()


def _overwrite_with_garbage(path: Path, only_largest: bool) -> None:
    files = [f for f in path.iterdir() if f.is_file() and f.stat().st_size > 0 and f.name != ".writer.lock"]
    if only_largest:
        files = [max(files, key=lambda f: f.stat().st_size)]
    for file in files:
        size = file.stat().st_size
        with open(file, "r+b") as handle:  # same size, in place: no reader sees a shorter file
            handle.write(os.urandom(size))


@pytest.mark.parametrize("only_largest", [False, True], ids=["all-files", "largest-file"])
def test_check_reports_a_corrupt_index(backend_kind, tmp_path, starter_synonyms, only_largest):
    backend = open_backend(backend_kind, tmp_path / "index", starter_synonyms)
    backend.upsert(corpus.all_documents())
    backend.commit(1)
    backend.check()
    _overwrite_with_garbage(tmp_path / "index", only_largest)
    with pytest.raises(IndexCorrupt):
        backend.check()
    backend.close()


def test_opening_a_corrupt_index_raises_index_corrupt(backend_kind, tmp_path, starter_synonyms):
    backend = open_backend(backend_kind, tmp_path / "index", starter_synonyms)
    backend.upsert(corpus.all_documents())
    backend.commit(1)
    backend.close()
    _overwrite_with_garbage(tmp_path / "index", only_largest=False)
    with pytest.raises(IndexCorrupt):
        reopened = open_backend(backend_kind, tmp_path / "index", starter_synonyms)
        reopened.check()


def test_without_synonyms_colloquial_words_do_not_reach_standard_terms(backend_kind, tmp_path):
    backend = open_backend(backend_kind, tmp_path / "index", SynonymSet.empty())
    backend.upsert([corpus.make_document(22)])
    backend.commit(1)
    assert search(backend, "低保").total == 1  # the similar question says 低保
    assert search(backend, "新农合").total == 0
    backend.close()


# -- common terms (kb.search.pipeline.split_common_terms) --------------------------------
def test_common_words_only_add_to_documents_that_match_a_rarer_word(fresh_backend, monkeypatch):
    from kb.search import pipeline

    base = corpus.make_document(1)
    docs = [dataclasses.replace(base, entry_id=2000 + i, question=f"第{i}号事项怎么办理",
                                answer=f"办理第{i}号事项请携带材料到窗口办理。" + ("渔船登记请到海事处。" if i % 250 == 0 else ""),
                                similar_questions=(), keywords=())
            for i in range(1200)]
    backend = fresh_backend
    backend.upsert(docs)
    backend.commit(1)

    def ranked(text):
        result = backend.search(SearchQuery(text, TODAY, limit=20))
        return [h.entry_id for h in result.hits]

    split = ranked("渔船 办理 材料")
    assert set(split) == {2000, 2250, 2500, 2750, 3000}
    assert len(ranked("办理 材料")) == 20  # nothing rarer in the query: every term counts as before
    monkeypatch.setattr(pipeline, "COMMON_TERM_MIN_DOCS", 10**9)  # every term as a plain OR clause
    everything = ranked("渔船 办理 材料")
    assert everything[:5] == split  # the same order for what matches a rarer word
    assert len(everything) == 20  # documents with common words only came after them
