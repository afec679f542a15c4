"""Scores from compliance counts: one profile over a report, and what changed when a month is recounted.

``settings`` throughout map a profile name to that profile's settings
(overrides of its defaults); a profile not named uses its defaults.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Callable

from kb.compliance import ComplianceReport, UnitCompliance, deadline_rules
from kb.deadlines import DeadlineRules

from .profiles import DeadlineMismatch, Profile, UnitScore, load_profiles

__all__ = ["rule_sets", "score_changes", "score_report"]


def score_report(profile: Profile, report: ComplianceReport, settings: Mapping[str, Any] | None = None) -> list[UnitScore]:
    """Every unit of the report scored by ``profile``."""
    return [profile.score(unit, settings) for unit in report.units]


def rule_sets(primary: DeadlineRules, settings: Mapping[str, Mapping[str, Any]] | None = None,
              profiles: Mapping[str, Profile] | None = None) -> list[DeadlineRules]:
    """The service's own deadline rules first, then those of each profile (without repeats).

    A month is frozen under each, so every profile scores a closed month from frozen counts.
    """
    profiles = load_profiles() if profiles is None else profiles
    found = [primary]
    for name, profile in profiles.items():
        rules = deadline_rules(profile.task_deadlines((settings or {}).get(name)))
        if rules not in found:
            found.append(rules)
    return found


def score_changes(settings: Mapping[str, Mapping[str, Any]] | None = None,
                  profiles: Mapping[str, Profile] | None = None
                  ) -> Callable[[Sequence[UnitCompliance], Sequence[UnitCompliance]], dict | None]:
    """A function of (counts before, counts after) giving every profile's points that moved, or None.

    It is what a recount announces as ``score.changed``.
    """
    profiles = load_profiles() if profiles is None else profiles

    def changes(before: Sequence[UnitCompliance], after: Sequence[UnitCompliance]) -> dict | None:
        moved = []
        old = {unit.unit_code: unit for unit in before}
        for unit in after:
            for name, profile in profiles.items():
                own = (settings or {}).get(name)
                try:
                    was, now = profile.score(old[unit.unit_code], own), profile.score(unit, own)
                except DeadlineMismatch:
                    continue  # counted under other deadlines than this profile's: it reads its own snapshot
                if was.points != now.points:
                    moved.append({"profile": name, "unit_code": unit.unit_code, "unit_name": unit.unit_name,
                                  "points_before": was.points, "points_after": now.points,
                                  "max_points": now.max_points, "score": now.to_dict()})
        return {"scores": moved} if moved else None

    return changes
