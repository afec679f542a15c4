"""What a recount of a closed month announces as score.changed: only the points that moved."""
from __future__ import annotations

from scoring_hooks.scoring import rule_sets, score_changes
from kb.compliance import deadline_rules
from kb.deadlines import DEFAULT_RULES
from tests.scoring.factories import late, make_unit


def test_a_recount_that_moves_points_names_the_profile_unit_and_both_scores():
    before = make_unit("2026-10", uploads_qa=1, tasks_by_source={"city_notice": late(overdue=(7,), due=2)})
    after = make_unit("2026-10", uploads_qa=1)
    data = score_changes()([before], [after])
    moved = {(m["profile"], m["unit_code"]): (m["points_before"], m["points_after"]) for m in data["scores"]}
    assert moved[("nankang-2023", "370112-JT")] == (8, 10)
    assert ("changzhou-edu", "370112-JT") not in moved  # city notices are not in its rules


def test_a_recount_that_moves_no_points_announces_nothing():
    unit = make_unit("2026-10", uploads_qa=1)
    assert score_changes()([unit], [unit]) is None


def test_months_are_frozen_under_the_service_rules_first_and_each_distinct_profile_rule_once():
    sets = rule_sets(DEFAULT_RULES, {"nankang-2023": {"task_deadlines": {"city_notice": 3}}})
    assert sets[0] == DEFAULT_RULES
    assert deadline_rules({"city_notice": 3}) in sets
    assert len(sets) == 2  # the other shipped profiles use the defaults
