"""What the console shows of the use cases' snapshots: labels and wording, one plain function per thing.

The use cases (kb/services) return frozen snapshots with domain values; the
API's dump schemas (service/schemas) and these functions turn them into what
people read. Every template reaches them as `present.<name>(...)` (the page
context of `service.web.blueprint`).
"""
from __future__ import annotations

from kb.deadlines import TASK_SOURCE_TITLES
from kb.models import ChangeKind, FlagKind, FlagState, PolicyStatus, UnitKind
from kb.services.directory import UnitSnapshot
from kb.services.flags import FlagSnapshot
from kb.services.oversight import NoticeSnapshot
from kb.services.tasks import OUTCOME_LABELS, TaskSnapshot
from kb.workflow import State
from service.schemas import tasks as task_schemas


def change_kind_label(kind: str) -> str:
    """新增知识, 修改规范答案, ... for a change request's kind."""
    return ChangeKind(kind).label


def change_state_label(state: str) -> str:
    """草稿, 单位审核中, ... for a change request's state."""
    return State(state).label


def policy_status_label(status: str) -> str:
    """现行有效, 已修订, 已废止 for a policy document's status."""
    return PolicyStatus(status).label


def unit_kind_label(unit: UnitSnapshot) -> str:
    """镇/街道, 区直部门, …"""
    return UnitKind(unit.kind).label


def notice_outcome_label(notice: NoticeSnapshot) -> str:
    """办理结果 of a supervision notice: 超期未办结, 超期办结, …"""
    return OUTCOME_LABELS[notice.outcome]


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
