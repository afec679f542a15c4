"""Console-only presentation: the labels and strings the pages show, from what the use cases answer.

Plain functions, one per thing presented; every template reaches them as `present.<name>(...)`
(the page context of `service.web.blueprint`).
"""
from __future__ import annotations

from kb.deadlines import TASK_SOURCE_TITLES
from kb.models import FlagKind, FlagState
from kb.services.flags import FlagSnapshot
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


def flag_kind_label(flag: FlagSnapshot) -> str:
    """话务员建议, 答案错误或过时 for what an operator flagged."""
    return FlagKind(flag.kind).label


def flag_state_label(flag: FlagSnapshot) -> str:
    """待热线办处理, 已转交承办单位, 未采纳 for where a flag stands."""
    return FlagState(flag.state).label
