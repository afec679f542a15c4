"""What the console shows of the use cases' snapshots: labels and wording, one plain function per thing.

The use cases (kb/services) return frozen snapshots with domain values; the
API's dump schemas (service/schemas) and these functions turn them into what
people read. Every template reaches them as `present.<name>(...)` (the page
context of `service.web.blueprint`).
"""
from __future__ import annotations

from kb.models import ChangeKind, PolicyStatus, UnitKind
from kb.services.directory import UnitSnapshot
from kb.services.oversight import NoticeSnapshot
from kb.services.tasks import OUTCOME_LABELS
from kb.workflow import State


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
