"""The search log keeps the words of a query, never the caller's numbers or name."""
from __future__ import annotations

import pytest

from kb.search.redaction import loggable_query, mask_numbers, ticket_log_text

TICKET = ("市民张建国来电反映，联系电话13805318888，身份证号370102198001011234，住在历城区华山街道某小区3号楼，"
          "去年辞职后有半年没有交社会保险，现在想把中断的几个月补缴上，不知道需要带什么材料。")


@pytest.mark.parametrize("typed, logged", [
    ("社保卡补办 13805318888", "社保卡补办 ***"),
    ("身份证370102198001011234丢了", "身份证***丢了"),
    ("37010219800101123X 查社保", "*** 查社保"),
    ("座机0531-88886666打不通", "座机***打不通"),
    ("138 0531 8888 公积金", "*** 公积金"),
    ("１３８０５３１８８８８ 医保", "*** 医保"),
    ("银行卡6222021234567890123挂失", "银行卡***挂失"),
    ("邮箱 zhang.san+1@example.com.cn 收不到通知", "邮箱 *** 收不到通知"),
    ("zhangsan＠qq.com 退订", "*** 退订"),
])
def test_phone_and_id_numbers_in_a_typed_query_are_masked(typed, logged):
    assert mask_numbers(typed) == logged
    assert loggable_query(typed, "query") == logged


@pytest.mark.parametrize("typed", ["2024年社保缴费基数", "3号楼停水", "12345热线", "邮编250000", "社保断交了怎么补", ""])
def test_short_numbers_and_plain_words_are_kept_as_typed(typed):
    assert mask_numbers(typed) == typed


def test_a_ticket_is_logged_as_its_keywords_without_numbers_or_names():
    logged = ticket_log_text(TICKET)
    words = logged.split()
    assert "社会保险" in words and "补缴" in words
    assert 0 < len(words) <= 8
    assert not any(ch.isdigit() for ch in logged)
    assert "张建国" not in logged and "13805318888" not in logged
    assert logged not in TICKET  # not a slice of the text either
    assert loggable_query(TICKET, "ticket") == logged
