"""How much of an entry's question a pasted ticket contains (pipeline.ticket_coverage)."""
from __future__ import annotations

from kb.search import analyzer, pipeline

TICKET = analyzer.normalize("来电人咨询，孩子今年上小学，外地户口有居住证，想问小学报名需要哪些材料？")


def coverage(question: str, *similar: str) -> float:
    return pipeline.ticket_coverage(TICKET, {"question": question, "similar_questions": list(similar)})


def test_a_question_the_ticket_asks_in_so_many_words_is_covered_whole():
    assert coverage("小学报名需要哪些材料") == 1.0
    assert coverage("小學報名需要哪些材料") == 1.0  # folded like the ticket


def test_the_matter_weighs_more_than_the_boilerplate():
    matter_only = coverage("居住证小学报名条件")  # 条件 missing
    boilerplate_only = coverage("工伤认定申请需要哪些材料")  # only 需要哪些材料 is in the ticket
    assert boilerplate_only < 0.5 < matter_only


def test_the_best_covered_phrasing_counts():
    assert coverage("适龄儿童义务教育入学登记", "小学报名要带哪些材料") > coverage("适龄儿童义务教育入学登记") + 0.5


def test_nothing_in_common_is_zero():
    assert coverage("燃气开户怎么办理") == 0.0
    assert coverage("") == 0.0



def test_a_question_word_the_ticket_says_with_a_word_between_still_counts_by_its_characters():
    # 随迁子女 is one word of the question, and the ticket never says it whole
    ticket = analyzer.normalize("我们是外地来的，孩子是随迁的子女，想问入学怎么办")
    apart = pipeline.ticket_coverage(ticket, {"question": "随迁子女入学", "similar_questions": []})
    assert 0.5 < apart < 1.0
