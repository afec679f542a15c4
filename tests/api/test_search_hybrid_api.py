"""Hybrid search through HTTP as configured by default (no KB_EMBEDDER): a caller's own words find the
answer, filters hold."""
from __future__ import annotations

import pytest

from tests.api.test_search_api import publish_entry, search, withdraw


@pytest.fixture
def corpus(people):
    return {
        "bike": publish_entry(people, question="电动自行车怎么上牌照？",
                              answer="1. 携带购车发票、合格证到车管所登记。\n2. 现场安装牌照。"),
        "elderly": publish_entry(people, question="老年人优待证在哪里办理？",
                                 answer="1. 年满60周岁持身份证到社区服务中心办理。"),
        "expired": publish_entry(people, question="春节期间电动自行车上牌暂停的通知", answer="1. 暂停至初七。",
                                 category_id=people.categories["通知公告"], expires_on="2026-02-28"),
    }


def test_a_caller_s_own_words_find_the_answer_with_the_phrasing_that_matched(people, corpus):
    hits = search(people.operator, "买了辆电驴怎么弄号牌")["hits"]
    assert hits[0]["entry_id"] == corpus["bike"]
    assert hits[0]["highlights"]["matched_question"] == "电动自行车怎么上牌照？"
    assert corpus["expired"] not in {h["entry_id"] for h in hits}
    lexical = search(people.operator, "买了辆电驴怎么弄号牌", mode="lexical")
    assert corpus["bike"] not in {h["entry_id"] for h in lexical["hits"]}


def test_a_publish_is_found_on_the_next_search_and_a_withdrawal_leaves_it(people, corpus):
    dog = publish_entry(people, question="犬只登记办理需要什么手续？", answer="1. 到派出所登记。")
    assert search(people.operator, "养了条狗需要登记吗")["hits"][0]["entry_id"] == dog
    withdraw(people, dog)
    assert dog not in {h["entry_id"] for h in search(people.operator, "养了条狗需要登记吗")["hits"]}


def test_an_unknown_ranking_mode_is_a_clear_422(people, corpus):
    r = people.operator.get("/api/v1/search", query_string={"q": "电驴", "mode": "semantic-only"})
    assert r.status_code == 422
    assert r.json["code"] and r.json["message"] and "mode" in r.json["errors"]["query"]


def test_a_question_asking_the_same_in_other_words_is_flagged_at_submission(people, corpus):
    marriage = publish_entry(people, question="异地结婚办结婚证需要什么证件", answer="1. 双方身份证和户口簿。")
    unmarried = publish_entry(people, question="初婚未育情况证明怎么开？", answer="1. 到户籍地社区开具。")

    def flagged(question):
        r = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": {
            "question": question, "answer": "1. 到民政局。"}})
        assert r.status_code == 201
        return " ".join(w["message"] for w in r.json["warnings"] if w["code"] == "duplicate_question")

    # few words in common (token overlap 0.38), the same question (cosine 0.93)
    assert f"知识 {marriage}：" in flagged("在异地领结婚证双方需要什么证件")
    # the same shape of question about another certificate (cosine 0.77) is not a duplicate
    assert f"知识 {unmarried}：" not in flagged("离婚证明怎么开？")
