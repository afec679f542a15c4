"""The README's "writing a profile" example works as printed, and plugs in through the entry-point group."""
from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from scoring_hooks.profiles import Profile, load_profiles
from tests.scoring.factories import late, make_unit

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def readme_profile():
    text = README.read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(# my_jurisdiction/profile\.py\n.*?)```", text, flags=re.S)
    module = types.ModuleType("my_jurisdiction_profile")
    exec(compile(code, "README.md", "exec"), module.__dict__)
    return module.PROFILE


def test_the_readme_profile_scores_late_feedback_with_its_evidence(readme_profile):
    assert isinstance(readme_profile, Profile)
    unit = make_unit("2026-10", tasks_by_source={"office_feedback": late(7, overdue=(9,), due=5)},
                     months_without_update=("2026-10",))
    score = readme_profile.score(unit)
    assert (score.points, score.max_points) == (8, 10)
    [deduction] = score.deductions
    assert deduction.evidence["task_ids"] == (7, 9)
    assert score.items[0].notes == ("无更新月份：2026-10",)


def test_a_profile_registered_under_the_entry_point_group_is_found(readme_profile, monkeypatch):
    from importlib import metadata

    ep = metadata.EntryPoint(name="example-2027", value="my_jurisdiction_profile:PROFILE",
                             group="kb.scoring_profiles")
    monkeypatch.setitem(sys.modules, "my_jurisdiction_profile", types.SimpleNamespace(PROFILE=readme_profile))
    real = metadata.entry_points
    monkeypatch.setattr("scoring_hooks.profiles.entry_points",
                        lambda group: [*real(group=group), ep] if group == "kb.scoring_profiles" else real(group=group))
    profiles = load_profiles()
    assert profiles["example-2027"] is readme_profile
    assert {"nankang-2023", "huantai-2017", "changzhou-edu", "licheng"} <= set(profiles)
