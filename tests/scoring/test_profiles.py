"""Each profile against hand-computed scenarios (expected points written out as literals)."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib.metadata import EntryPoint

import pytest

import scoring_hooks.profiles as profiles_pkg
from kb.compliance import TaskTally
from scoring_hooks.profiles import (
    DeadlineMismatch,
    Profile,
    ProfileLoadError,
    SettingsError,
    get_profile,
    load_profiles,
)
from scoring_hooks.profiles.base import BaseProfile, ItemTally

from .factories import late, make_unit

PROFILES = load_profiles()
NANKANG = PROFILES["nankang-2023"]
HUANTAI = PROFILES["huantai-2017"]
CHANGZHOU = PROFILES["changzhou-edu"]
LICHENG = PROFILES["licheng"]


def summary(score):
    """(points, [(rule, points), ...]) of a score, for compact assertions."""
    return score.points, [(d.rule, d.points) for d in score.deductions]


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def test_the_four_builtin_profiles_load_by_name_and_fit_the_interface():
    assert list(PROFILES) == ["changzhou-edu", "huantai-2017", "licheng", "nankang-2023"]
    for name, profile in PROFILES.items():
        assert isinstance(profile, Profile)
        assert profile.name == name
        assert profile.title
        assert set(profile.defaults) == set(profile.settings_schema["properties"])


def test_a_profile_registered_through_entry_points_is_loaded(monkeypatch):
    ep = EntryPoint("example-2030", "tests.scoring.test_profiles:EXAMPLE_PROFILE", "kb.scoring_profiles")
    monkeypatch.setattr(profiles_pkg, "entry_points", lambda group: [ep] if group == "kb.scoring_profiles" else [])
    loaded = load_profiles()
    assert loaded["example-2030"] is EXAMPLE_PROFILE
    assert "nankang-2023" in loaded  # built-ins stay available


def test_a_profile_registered_under_another_name_is_refused(monkeypatch):
    ep = EntryPoint("other-name", "tests.scoring.test_profiles:EXAMPLE_PROFILE", "kb.scoring_profiles")
    monkeypatch.setattr(profiles_pkg, "entry_points", lambda group: [ep])
    with pytest.raises(ProfileLoadError, match="calls itself"):
        load_profiles()


def test_a_broken_registered_profile_fails_loudly(monkeypatch):
    ep = EntryPoint("broken", "tests.scoring.no_such_module:PROFILE", "kb.scoring_profiles")
    monkeypatch.setattr(profiles_pkg, "entry_points", lambda group: [ep])
    with pytest.raises(ProfileLoadError, match="broken"):
        load_profiles()


def test_get_profile_names_the_known_profiles_when_asked_for_an_unknown_one():
    with pytest.raises(KeyError, match="nankang-2023"):
        get_profile("shizhong-2022", PROFILES)


class ExampleProfile(BaseProfile):
    name = "example-2030"
    title = "示例"
    defaults = {"max_points": 1, "task_deadlines": {}}
    settings_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"max_points": {"type": "number"}, "task_deadlines": {"type": "object"}},
    }

    def score_items(self, unit, settings):
        return [ItemTally("示例", settings["max_points"]).build()], {}


EXAMPLE_PROFILE = ExampleProfile()


# ---------------------------------------------------------------------------
# Nankang 2023: 知识库信息采集、更新 (20)
# ---------------------------------------------------------------------------


def test_nankang_gives_full_marks_for_qa_uploads_every_entry_covered_and_notices_on_time():
    unit = make_unit(
        uploads_qa=4,
        verifications=8,
        published_entries=12,
        covered_entries=12,
        tasks_by_source={"city_notice": TaskTally(received=3, resolved_on_time=3, due_working_days=2)},
    )
    score = NANKANG.score(unit)
    assert summary(score) == (20.0, [])
    assert score.max_points == 20.0
    assert score.items[0].item == "知识库信息采集、更新"


def test_nankang_six_late_city_notices_reach_the_ten_point_cap():
    unit = make_unit(
        uploads_qa=2,
        modifications=3,
        published_entries=5,
        covered_entries=5,
        tasks_by_source={"city_notice": late(11, 12, 13, 14, overdue=(15, 16), due=2)},
    )
    score = NANKANG.score(unit)
    assert summary(score) == (10.0, [("city_notice_late", 10.0)])
    deduction = score.deductions[0]
    assert deduction.evidence == {"task_ids": (11, 12, 13, 14, 15, 16)}
    assert "6次" in deduction.reason and "计12分" in deduction.reason and "上限10分" in deduction.reason


def test_nankang_other_format_only_earns_five_and_a_year_without_update_or_verification_earns_nothing():
    unit = make_unit(
        uploads_document=3,
        upload_entry_ids=(7, 8, 9),
        published_entries=10,
        covered_entries=9,
        uncovered_entry_ids=(42,),
        tasks_by_source={"city_notice": late(77, due=2)},
    )
    score = NANKANG.score(unit)
    # 20 - (10 - 5) - 10 - 2
    assert summary(score) == (3.0, [("upload_format", 5.0), ("not_updated", 10.0), ("city_notice_late", 2.0)])
    assert score.deductions[1].evidence == {"entry_ids": (42,)}


def test_nankang_settings_lower_the_coverage_threshold_and_the_cap():
    unit = make_unit(
        uploads_document=3,
        published_entries=10,
        covered_entries=9,
        tasks_by_source={"city_notice": late(1, 2, 3, 4, 5, 6, due=2)},
    )
    score = NANKANG.score(unit, {"update_rule": "coverage", "coverage_threshold": 0.9, "city_notice_cap": 6})
    # 20 - 5 (other format) - 0 (9/10 >= 0.9) - min(6 x 2, 6)
    assert summary(score) == (9.0, [("upload_format", 5.0), ("city_notice_late", 6.0)])
    assert score.settings["coverage_threshold"] == 0.9


def test_nankang_cap_comes_off_the_whole_item_which_stops_at_zero():
    unit = make_unit(tasks_by_source={"city_notice": late(1, 2, 3, 4, 5, 6, due=2)})
    score = NANKANG.score(unit)
    assert summary(score) == (0.0, [("no_upload", 10.0), ("not_updated", 10.0), ("city_notice_late", 0.0)])
    assert "扣完为止" in score.deductions[2].reason


def test_nankang_notes_a_period_shorter_than_the_year():
    score = NANKANG.score(make_unit(period="2026-Q4", uploads_qa=1, verifications=1, published_entries=1,
                                    covered_entries=1))
    assert score.points == 20.0
    assert any("2026-Q4" in note for note in score.items[0].notes)


def test_nankang_refuses_city_notices_counted_with_another_deadline():
    unit = make_unit(tasks_by_source={"city_notice": late(1, due=5)})
    with pytest.raises(DeadlineMismatch, match="2"):
        NANKANG.score(unit)
    assert dict(NANKANG.task_deadlines()) == {"city_notice": 2}


def test_nankang_notes_city_notices_counted_with_the_default_deadline():
    score = NANKANG.score(make_unit(tasks_by_source={"city_notice": late(1)}))
    assert score.notes == ("市级通知更新任务按系统默认时限统计，本方案要求2个工作日，未核对",)


# ---------------------------------------------------------------------------
# Huantai 2017: 数据资料库维护 (10 = 3 + 3 + 4)
# ---------------------------------------------------------------------------


def huantai_unit():
    return make_unit(
        tasks_by_source={
            "office_feedback": late(101),
            "unit_self_found": late(overdue=(102,)),
            "operator_suggestion": late(150, 151),  # left to 3.2, not counted in 3.1
            "policy_change": late(301, overdue=(302, 303)),
        },
        suggestions_received=5,
        suggestions_acted_in_time=3,
        suggestions_not_acted=1,
        suggestion_ids_not_acted=(201,),
        wrong_answers_late_policy=3,
        late_policy_flag_ids=(401, 402, 403),
    )


def test_huantai_sub_items_stop_at_zero_and_add_up():
    score = HUANTAI.score(huantai_unit())
    # 3.1: 2 misses x 2 = 4 > 3 -> 0; 3.2: 3 - 2 = 1; 3.3: 4 - 3 x 1 = 1
    assert [(item.item[:3], item.max_points, item.points) for item in score.items] == [
        ("3.1", 3.0, 0.0),
        ("3.2", 3.0, 1.0),
        ("3.3", 4.0, 1.0),
    ]
    assert summary(score) == (2.0, [("update_late", 3.0), ("suggestion_not_acted", 2.0), ("policy_late", 3.0)])
    assert score.max_points == 10.0
    update, suggestion, policy = score.deductions
    assert update.evidence == {"task_ids": (101, 102)}
    assert "实扣3分" in update.reason
    assert suggestion.evidence == {"suggestion_ids": (201,)}
    assert policy.evidence == {"flag_ids": (401, 402, 403)}


def test_huantai_settings_change_the_deduction_per_case():
    score = HUANTAI.score(huantai_unit(), {"update_deduction": 1, "policy_deduction": 0.5})
    # 3.1: 3 - 2 x 1 = 1; 3.2: 1; 3.3: 4 - 3 x 0.5 = 2.5
    assert summary(score) == (4.5, [("update_late", 2.0), ("suggestion_not_acted", 2.0), ("policy_late", 1.5)])


def test_huantai_counts_operator_suggestion_tasks_in_3_1_only_when_told():
    score = HUANTAI.score(huantai_unit(), {"update_sources": ["operator_suggestion"]})
    assert score.items[0].points == 0.0
    assert score.deductions[0].evidence == {"task_ids": (150, 151)}


def test_huantai_unit_with_nothing_missed_keeps_ten():
    assert summary(HUANTAI.score(make_unit(suggestions_received=2, suggestions_acted_in_time=2))) == (10.0, [])


def test_settings_are_checked_against_the_schema():
    with pytest.raises(SettingsError, match="unknown setting 'update_penalty'"):
        HUANTAI.score(make_unit(), {"update_penalty": 1})
    with pytest.raises(SettingsError, match="must be a number"):
        HUANTAI.score(make_unit(), {"update_deduction": "2"})
    with pytest.raises(SettingsError, match="must be one of"):
        HUANTAI.score(make_unit(), {"update_sources": ["hotline"]})
    with pytest.raises(SettingsError, match="at most 1"):
        NANKANG.score(make_unit(), {"coverage_threshold": 1.5})


# ---------------------------------------------------------------------------
# Changzhou Education Bureau: 知识库管理 (10)
# ---------------------------------------------------------------------------


def test_changzhou_deducts_missed_months_and_whole_points_above_ten_percent():
    unit = make_unit(months_without_update=("2026-05", "2026-02"), months_without_change=("2026-05", "2026-02"),
                     usages=200, usages_confirmed_wrong=25)
    score = CHANGZHOU.score(unit)
    # 10 - 2 months - floor(12.5 - 10) = 10 - 2 - 2
    assert summary(score) == (6.0, [("month_not_updated", 2.0), ("usage_error_rate", 2.0)])
    assert score.deductions[0].evidence == {"months": ("2026-02", "2026-05")}
    assert "12.5%" in score.deductions[1].reason


@pytest.mark.parametrize(
    ("usages", "wrong", "rounding", "expected"),
    [
        (50, 5, "floor", 10.0),  # exactly 10%: nothing
        (1000, 109, "floor", 10.0),  # 10.9%: not a whole point above
        (1000, 109, "ceil", 9.0),  # 10.9%: a started point counts
        (100, 11, "floor", 9.0),  # 11% exactly (0.11 - 0.10 is not 0.00999... here)
        (1000, 101, "ceil", 9.0),
        (50, 5, "ceil", 10.0),
    ],
)
def test_changzhou_error_rate_boundaries(usages, wrong, rounding, expected):
    score = CHANGZHOU.score(make_unit(usages=usages, usages_confirmed_wrong=wrong), {"error_rate_rounding": rounding})
    assert score.points == expected


def test_changzhou_stops_at_zero():
    months = tuple(f"2026-{m:02d}" for m in range(1, 13))
    unit = make_unit(months_without_update=months, months_without_change=months, usages=10, usages_confirmed_wrong=3)
    score = CHANGZHOU.score(unit)
    # 12 months x 1 = 12 > 10 -> 10 taken; 30% -> 20 points asked, nothing left
    assert summary(score) == (0.0, [("month_not_updated", 10.0), ("usage_error_rate", 0.0)])


def test_changzhou_without_usage_has_no_error_rate_and_says_so():
    score = CHANGZHOU.score(make_unit(period="2026-03"))
    assert summary(score) == (10.0, [])
    assert any("无知识库使用记录" in note for note in score.items[0].notes)


def test_changzhou_threshold_is_a_setting():
    unit = make_unit(usages=200, usages_confirmed_wrong=25)
    assert CHANGZHOU.score(unit, {"error_rate_threshold": 0.05}).points == 3.0  # floor(12.5 - 5) = 7


# ---------------------------------------------------------------------------
# Licheng: 信息报送 0.1 a piece, at most 4; Art. 15 report
# ---------------------------------------------------------------------------


def test_licheng_counts_new_and_modified_entries_at_a_tenth_each_without_float_noise():
    unit = make_unit(
        uploads_qa=20,
        uploads_document=5,
        uploads_by_category={"政策法规": 15, "通知公告": 10},
        modifications=14,
        deletions=3,
        revocations=1,
        verifications=40,
        published_entries=120,
        covered_entries=100,
        tasks_by_source={
            "office_feedback": TaskTally(received=6, resolved_on_time=4, resolved_late=1, open_overdue=1,
                                         late_task_ids=(501,), overdue_task_ids=(502,), due_working_days=5),
            "policy_change": TaskTally(received=2, resolved_on_time=2, due_working_days=5),
            "emergency": TaskTally(received=1, declined=1),
        },
    )
    score = LICHENG.score(unit)
    assert score.points == 3.9  # 39 x 0.1
    assert repr(score.points) == "3.9"
    assert score.max_points == 4.0
    assert score.deductions == ()
    report = score.report
    assert {k: report[k] for k in ("new", "new_qa", "new_document", "modified", "deleted", "deletions",
                                   "revocations", "verified", "pieces")} == {
        "new": 25, "new_qa": 20, "new_document": 5, "modified": 14, "deleted": 4, "deletions": 3,
        "revocations": 1, "verified": 40, "pieces": 39,
    }
    assert report["new_by_category"] == {"政策法规": 15, "通知公告": 10}
    assert report["tasks"] == {"received": 9, "resolved_on_time": 6, "resolved_late": 1, "open_overdue": 1, "declined": 1,
                               "office_late": 0}
    assert report["tasks_by_source"]["office_feedback"] == {
        "received": 6, "resolved_on_time": 4, "resolved_late": 1, "open_overdue": 1, "declined": 0, "office_late": 0,
    }
    assert report["late_task_ids"] == [501] and report["overdue_task_ids"] == [502]
    json.dumps(score.to_dict(), ensure_ascii=False)


def test_licheng_caps_at_four():
    score = LICHENG.score(make_unit(uploads_qa=30, uploads_document=5, modifications=10))
    assert score.points == 4.0  # 45 x 0.1 = 4.5 -> 4
    assert any("按4分计" in note for note in score.items[0].notes)


def test_licheng_settings_leave_out_modifications_or_change_the_rate():
    unit = make_unit(uploads_qa=20, uploads_document=5, modifications=14)
    assert LICHENG.score(unit, {"count_modifications": False}).points == 2.5
    assert LICHENG.score(unit, {"points_per_piece": 0.2}).points == 4.0  # 7.8 capped
    assert LICHENG.score(unit, {"points_per_piece": Decimal("0.2"), "max_points": 10}).points == 7.8


def test_licheng_zero_pieces_scores_zero():
    assert LICHENG.score(make_unit()).points == 0.0


# ---------------------------------------------------------------------------
# Shared invariants
# ---------------------------------------------------------------------------


def test_deduction_items_lose_exactly_what_their_deductions_say():
    scores = [
        NANKANG.score(make_unit(uploads_document=1, tasks_by_source={"city_notice": late(1, 2, 3, due=2)})),
        HUANTAI.score(huantai_unit()),
        CHANGZHOU.score(make_unit(months_without_update=("2026-01",), usages=100, usages_confirmed_wrong=15)),
    ]
    for score in scores:
        for item in score.items:
            assert item.max_points - item.points == pytest.approx(item.deducted)
            assert item.points >= 0


def test_scores_serialise_to_json_with_stable_keys():
    data = HUANTAI.score(huantai_unit()).to_dict()
    assert list(data) == ["profile", "profile_title", "unit_code", "unit_name", "period", "points",
                          "max_points", "items", "report", "settings", "notes", "provisional"]
    assert data["period"] == {"label": "2026", "start": "2026-01-01", "end": "2026-12-31"}
    assert data["items"][0]["deductions"][0]["evidence"] == {"task_ids": [101, 102]}
    json.dumps(data, ensure_ascii=False)


# ---------------------------------------------------------------------------
# Readings that follow the seeds' wording (issue: rules read right)
# ---------------------------------------------------------------------------


def test_nankang_one_update_or_verification_in_the_year_earns_the_ten_points_whatever_the_coverage():
    # "对已上传平台知识库信息全年更新（或校核）一次，得10分": one verification of one of ten entries.
    unit = make_unit(uploads_qa=1, verifications=1, published_entries=10, covered_entries=2,
                     uncovered_entry_ids=(3, 4, 5, 6, 7, 8, 9, 10))
    score = NANKANG.score(unit)
    assert summary(score) == (20.0, [])
    assert any("更新或校核2条（20%）" in note for note in score.items[0].notes)  # coverage is reported
    # the older, stricter reading stays available as a setting
    assert summary(NANKANG.score(unit, {"update_rule": "coverage"})) == (10.0, [("not_updated", 10.0)])


def test_nankang_a_unit_whose_entries_are_all_new_this_year_has_not_updated_unless_told():
    unit = make_unit(uploads_qa=3, published_entries=3, covered_entries=3)
    score = NANKANG.score(unit)
    assert summary(score) == (10.0, [("not_updated", 10.0)])
    assert "均为期内新上传" in score.deductions[0].reason
    assert NANKANG.score(unit, {"new_entries_count_as_update": True}).points == 20.0


def test_nankang_notice_deductions_come_off_the_whole_item_or_only_the_update_half_when_set():
    # Q&A uploads, no update in the year, three late notices.
    unit = make_unit(uploads_qa=2, published_entries=2, tasks_by_source={"city_notice": late(1, 2, 3, due=2)})
    assert summary(NANKANG.score(unit)) == (4.0, [("not_updated", 10.0), ("city_notice_late", 6.0)])
    half = NANKANG.score(unit, {"city_notice_from": "update"})
    assert summary(half) == (10.0, [("not_updated", 10.0), ("city_notice_late", 0.0)])
    assert half.deductions[1].evidence == {"task_ids": (1, 2, 3)}


def test_nankang_does_not_deduct_for_the_offices_own_delay():
    unit = make_unit(uploads_qa=1, verifications=1, published_entries=1, covered_entries=1, tasks_by_source={
        "city_notice": TaskTally(received=1, resolved_on_time=1, office_late=1, office_late_task_ids=(9,),
                                 due_working_days=2)})
    score = NANKANG.score(unit)
    assert summary(score) == (20.0, [])
    assert any("热线办发布超期" in note for note in score.items[0].notes)


def test_changzhou_a_month_with_only_verifications_is_not_an_update_unless_set():
    unit = make_unit(period="2026-Q1", months_without_update=("2026-02",),
                     months_without_change=("2026-02", "2026-03"))
    score = CHANGZHOU.score(unit)
    assert summary(score) == (8.0, [("month_not_updated", 2.0)])
    assert "2026-03仅有校核" in score.deductions[0].reason
    assert CHANGZHOU.score(unit, {"verification_counts_as_update": True}).points == 9.0


def test_huantai_3_3_counts_wrong_answers_caused_by_a_late_policy_not_late_policy_tasks():
    unit = make_unit(tasks_by_source={"policy_change": late(1, 2, 3)}, wrong_answers_late_policy=1,
                     late_policy_flag_ids=(77,))
    score = HUANTAI.score(unit)
    assert summary(score) == (9.0, [("policy_late", 1.0)])
    assert score.deductions[0].evidence == {"flag_ids": (77,)}
    assert summary(HUANTAI.score(unit, {"policy_count": "tasks"})) == (7.0, [("policy_late", 3.0)])


def test_licheng_piece_kinds_say_what_counts_as_a_piece():
    unit = make_unit(uploads_qa=10, modifications=5, deletions=4, revocations=1)
    assert LICHENG.score(unit).points == 1.5  # new and modified by default
    assert LICHENG.score(unit, {"piece_kinds": ["new"]}).points == 1.0
    score = LICHENG.score(unit, {"piece_kinds": ["new", "modify", "delete", "revoke"]})
    assert (score.points, score.report["pieces"]) == (2.0, 20)
    with pytest.raises(SettingsError, match="must be one of"):
        LICHENG.score(unit, {"piece_kinds": ["verify"]})


def test_a_score_of_a_running_period_is_provisional_and_says_so():
    from datetime import datetime, timezone

    unit = make_unit(period="2026-12", as_of=datetime(2026, 12, 15, 2, tzinfo=timezone.utc))
    score = LICHENG.score(unit)
    assert score.provisional is True and score.to_dict()["provisional"] is True
    assert "尚未结束" in score.notes[0]
    assert LICHENG.score(make_unit(period="2026-11", as_of=datetime(2026, 12, 15, tzinfo=timezone.utc))
                         ).provisional is False
