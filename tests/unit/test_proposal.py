"""The proposal value object: a field it does not name is absent, which is not the same as None."""
from __future__ import annotations

from datetime import date

import pytest

from kb.models import CONTENT_FIELDS
from kb.proposal import ABSENT, FIELDS, Proposal


def test_its_fields_are_the_content_fields_a_version_freezes():
    assert FIELDS == CONTENT_FIELDS


def test_a_field_set_to_none_is_named_and_an_absent_one_is_not():
    proposal = Proposal(expires_on=None, answer="1. 身份证。")

    assert proposal.names("expires_on") and proposal.expires_on is None
    assert not proposal.names("question") and proposal.question is ABSENT and proposal.value("question") is None
    assert proposal.fields() == {"answer": "1. 身份证。", "expires_on": None}
    assert not Proposal() and proposal


def test_stored_json_reads_back_as_the_same_proposal():
    proposal = Proposal(question="如何办理？", similar_questions=("怎么办",), keywords=(), effective_on=date(2026, 1, 1),
                        expires_on=None, urgent=False)

    stored = proposal.to_json()

    assert stored == {"question": "如何办理？", "similar_questions": ["怎么办"], "keywords": [],
                      "effective_on": "2026-01-01", "expires_on": None, "urgent": False}
    assert Proposal.of(stored) == proposal


def test_a_key_that_is_not_a_content_field_is_refused():
    with pytest.raises(TypeError, match="unit_code"):
        Proposal.of({"answer": "x", "unit_code": "HX"})


def test_laid_over_a_base_what_it_names_wins_none_included():
    base = Proposal(question="旧问题", answer="旧答案", expires_on=date(2026, 12, 31))

    merged = Proposal(answer="新答案", expires_on=None).over(base)

    assert merged == Proposal(question="旧问题", answer="新答案", expires_on=None)


def test_changed_from_keeps_only_what_differs_and_filled_only_what_is_absent():
    base = Proposal(question="问题", answer="答案", keywords=("社保",))

    assert Proposal(question="问题", answer="新答案", keywords=("社保",)).changed_from(base) == Proposal(answer="新答案")
    assert Proposal(urgent=True).filled(urgent=False, format="qa") == Proposal(urgent=True, format="qa")
