"""Realistic records for scoring tests."""

from __future__ import annotations

from typing import Any

from kb.compliance import Period, TaskTally, UnitCompliance


def make_unit(period: str = "2026", **overrides: Any) -> UnitCompliance:
    """A unit with nothing done in the period unless told otherwise."""
    values: dict[str, Any] = {
        "unit_code": "370112-JT",
        "unit_name": "历城区交通运输局",
        "period": Period.parse(period),
    }
    values.update(overrides)
    return UnitCompliance(**values)


def late(*task_ids: int, overdue: tuple[int, ...] = (), due: int | None = None, received: int | None = None) -> TaskTally:
    """A tally whose given tasks were resolved late and whose ``overdue`` ones are still open past due."""
    return TaskTally(
        received=received if received is not None else len(task_ids) + len(overdue),
        resolved_late=len(task_ids),
        open_overdue=len(overdue),
        late_task_ids=task_ids,
        overdue_task_ids=overdue,
        due_working_days=due,
    )
