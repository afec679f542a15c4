"""Console-only presentation: the labels and strings the pages show, from what the use cases answer.

Plain functions, one per thing presented; every template reaches them as `present.<name>(...)`
(the page context of `service.web.blueprint`).
"""
from __future__ import annotations

from kb.models import ChangeKind, PolicyStatus
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
