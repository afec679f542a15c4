from __future__ import annotations

import pytest

from kb.search import analyzer


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("ＳＯＳ１２３", "sos123"),
        ("戶口遷移", "户口迁移"),
        ("醫療保險ＡＢＣ", "医疗保险abc"),
        ("社保\x00断缴\x1f了", "社保 断缴 了"),
        ("社保\u200b卡", "社保 卡"),
        ("ETC卡", "etc卡"),
        ("", ""),
    ],
)
def test_normalize_folds_width_case_script_and_controls(raw, folded):
    assert analyzer.normalize(raw) == folded


def test_normalize_keeps_the_length_of_plain_chinese_and_ascii():
    text = "住房公积金提取需要哪些材料？请拨打12345。"
    assert len(analyzer.normalize(text)) == len(text)


def test_index_tokens_include_the_words_inside_compounds():
    tokens = analyzer.tokenize_for_index("租房提取住房公积金")
    assert {"住房公积金", "公积金", "租房", "提取"} <= set(tokens)


def test_domain_terms_stay_whole():
    assert "最低生活保障" in analyzer.tokenize_for_index("最低生活保障申请条件")
    assert analyzer.tokenize_term("城乡居民医保") == ["城乡居民医保"]


def test_punctuation_whitespace_and_stopwords_are_dropped():
    tokens = analyzer.tokenize_for_index("请问，我的社保卡……怎么 补办？！")
    assert tokens and all(t not in analyzer.STOPWORDS for t in tokens)
    assert not {"，", "……", "？", "！", " ", "请问", "我", "的", "怎么"} & set(tokens)
    assert "补办" in tokens


def test_index_tokens_keep_repeats_as_term_frequency():
    assert analyzer.tokenize_for_index("社保 社保").count("社保") == 2


def test_query_tokens_are_distinct_ordered_and_capped():
    assert analyzer.tokenize_query("社保 医保 社保") == ["社保", "医保"]
    assert len(analyzer.tokenize_query("，".join(f"词{i}号" for i in range(500)), max_tokens=10)) == 10


@pytest.mark.parametrize("text", ["", "   ", "的了吗", "请问怎么办", "？！。", "\x00\x01"])
def test_queries_without_content_words_give_no_tokens(text):
    assert analyzer.tokenize_query(text) == []


def test_term_tokens_are_precise_mode_only():
    assert analyzer.tokenize_term("住房公积金") == ["住房公积金"]
    assert analyzer.tokenize_term("补缴时间") == ["补缴", "时间"]


def test_starter_synonym_terms_are_single_tokens():
    for term in ("中断缴费", "公积金提取", "城乡居民基本医疗保险", "网络预约出租汽车", "12345热线"):
        assert analyzer.tokenize_term(term) == [term]
    assert "公积金" in analyzer.tokenize_for_index("我想取公积金")


TICKET = (
    "市民来电反映，其所在的幸福里小区物业公司长期不清理垃圾，电梯经常故障，物业费却年年上涨，"
    "业主多次向物业公司反映无果，希望相关部门督促物业公司整改，并公开物业费收支情况。"
)


def test_ticket_keywords_rank_the_matter_first():
    keywords = analyzer.ticket_keywords(TICKET, top_k=8)
    words = [w for w, _ in keywords]
    assert len(keywords) == 8 and len(set(words)) == 8
    assert {"物业公司", "物业费"} <= set(words)
    assert keywords[0][1] == 1.0
    assert [w for _, w in keywords] == sorted((w for _, w in keywords), reverse=True)
    assert not set(words) & analyzer.STOPWORDS
    assert all(len(w) >= 2 for w in words)


def test_ticket_keywords_are_deterministic_and_handle_empty_text():
    assert analyzer.ticket_keywords(TICKET) == analyzer.ticket_keywords(TICKET)
    assert analyzer.ticket_keywords("") == []
    assert analyzer.ticket_keywords("的了吗？") == []
    assert analyzer.ticket_keywords(TICKET, top_k=0) == []


def test_ticket_keywords_accept_other_idf_values():
    keywords = analyzer.ticket_keywords(TICKET, top_k=3, idf=lambda w: 100.0 if w == "电梯" else None)
    assert keywords[0][0] == "电梯"


def test_query_words_are_precise_and_their_subwords_come_separately():
    assert analyzer.tokenize_query("住房公积金怎么提取") == ["住房公积金", "提取"]
    assert {"公积金", "住房"} <= set(analyzer.subwords("住房公积金"))
    assert analyzer.subwords("社保") == []
