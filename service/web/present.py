"""Console-only presentation: the labels and strings the pages show, from what the use cases answer.

Plain functions, one per thing presented; every template reaches them as `present.<name>(...)`
(the page context of `service.web.blueprint`).
"""
from __future__ import annotations

from kb.deadlines import TASK_SOURCE_TITLES
from kb.services.tasks import OUTCOME_LABELS, TaskSnapshot
from service.schemas import tasks as task_schemas


def task_source_label(task: TaskSnapshot) -> str:
    """热线办反馈, 话务员建议, ... for where a task came from."""
    return TASK_SOURCE_TITLES[task.source]


def task_reason_label(task: TaskSnapshot) -> str | None:
    """内容不完整, ... for the office's feedback reasons; other sources' reasons as written (as the API says it)."""
    return task_schemas.task_reason_label(task)


def task_outcome_label(task: TaskSnapshot) -> str:
    """办理中, 超期未办结, 按时办结, ... for how a task stands."""
    return OUTCOME_LABELS[task.outcome]
