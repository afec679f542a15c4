from __future__ import annotations

import pytest

from kb.search.synonyms import STARTER_FILE, SynonymFormatError, SynonymSet, parse_lines


def test_parse_lines_reads_every_separator_and_skips_comments():
    text = """
    # 社会保险
    社会保险/社保
    住房公积金, 公积金  # trailing comment
    户籍\t户口
    最低生活保障，低保、低保金

    """
    assert parse_lines(text) == [
        ("社会保险", "社保"),
        ("住房公积金", "公积金"),
        ("户籍", "户口"),
        ("最低生活保障", "低保", "低保金"),
    ]


def test_parse_lines_drops_repeated_terms_within_a_group():
    assert parse_lines("医保/医保/医疗保险") == [("医保", "医疗保险")]


@pytest.mark.parametrize(("text", "line"), [("社保/社会保险\n医保\n", 2), ("a/b\n\n#x\n医保/" + "长" * 40, 4)])
def test_parse_lines_names_the_line_of_a_bad_group(text, line):
    with pytest.raises(SynonymFormatError) as error:
        parse_lines(text)
    assert error.value.line == line


def test_expand_puts_the_token_first_and_synonyms_after_with_lower_weight():
    synonyms = SynonymSet.from_text("社会保险/社保\n医疗保险/医保")
    assert synonyms.expand(["社保", "报销"]) == [[("社保", 1.0), ("社会保险", 0.8)], [("报销", 1.0)]]


def test_multi_token_synonyms_are_space_joined_alternatives():
    # terms outside the analyzer's vocabulary may be several tokens
    synonyms = SynonymSet.from_text("欠缴/缴费时间中断")
    assert synonyms.expand(["欠缴"]) == [[("欠缴", 1.0), ("缴费 时间 中断", 0.8)]]


def test_a_multi_token_term_in_the_query_brings_its_synonyms():
    synonyms = SynonymSet.from_text("欠缴/缴费时间中断")
    groups = synonyms.expand(["缴费", "时间", "中断", "补缴"])
    assert ("欠缴", 0.8) in groups[0]
    assert groups[1] == [("时间", 1.0)]
    assert synonyms.expand(["缴费", "电话"]) == [[("缴费", 1.0)], [("电话", 1.0)]]


def test_terms_are_folded_like_queries():
    synonyms = SynonymSet.from_text("醫療保險/醫保")
    assert synonyms.expand(["医保"]) == [[("医保", 1.0), ("医疗保险", 0.8)]]


def test_full_pinyin_of_a_known_term_expands():
    synonyms = SynonymSet.from_text("社会保险/社保\n住房公积金/公积金")
    assert ("社保", 0.8) in synonyms.expand(["shebao"])[0]
    assert ("公积金", 0.8) in synonyms.expand(["gongjijin"])[0]
    assert synonyms.expand(["hello"]) == [[("hello", 1.0)]]


def test_initials_expand_only_where_one_group_has_them():
    synonyms = SynonymSet.from_text("社会保险/社保\n住房公积金/公积金\n最低生活保障/低保\n断缴/断保")
    assert {alt for alt, _ in synonyms.expand(["sb"])[0]} == {"sb", "社保", "社会保险"}
    assert ("公积金", 0.8) in synonyms.expand(["gjj"])[0]
    assert synonyms.expand(["db"]) == [[("db", 1.0)]]  # 低保 or 断保: not guessed
    assert synonyms.expand(["zz"]) == [[("zz", 1.0)]]


def test_weight_is_configurable_and_an_empty_set_expands_nothing():
    assert SynonymSet.from_text("社会保险/社保", weight=0.5).expand(["社保"])[0][1] == ("社会保险", 0.5)
    assert SynonymSet.empty().expand(["社保", "医保"]) == [[("社保", 1.0)], [("医保", 1.0)]]


def test_synonyms_of_lists_the_other_terms_of_every_group():
    synonyms = SynonymSet.from_text("医疗保险/医保/基本医疗保险\n医保卡/医疗保险卡")
    assert synonyms.synonyms_of("医保") == ["医疗保险", "基本医疗保险"]


def test_the_starter_list_covers_the_common_hotline_topics():
    starter = SynonymSet.starter()
    groups = parse_lines(STARTER_FILE.read_text(encoding="utf-8"))
    assert len(starter) == len(groups) >= 60
    for colloquial, standard in [
        ("医保", "医疗保险"), ("公积金", "住房公积金"), ("户口", "户籍"), ("身份证", "居民身份证"),
        ("社保", "社会保险"), ("低保", "最低生活保障"), ("新农合", "城乡居民医保"), ("房产证", "不动产权证书"),
        ("驾照", "机动车驾驶证"), ("个税", "个人所得税"), ("退休金", "养老金"), ("上学", "入学"),
    ]:
        assert standard in starter.synonyms_of(colloquial), colloquial
