"""The correction-task state machine, as a table beside the change requests' (kb/workflow.py). Pure.

open → in_progress (a change request is linked) → resolved when it is
published; open or in progress → decline_requested (the unit says it is not
theirs to fix) → declined when the office accepts, or back to work when it
rejects (in progress when a change is linked, else open). Any state not yet
closed resolves: a linked change published, the entry verified or withdrawn.
"""
from __future__ import annotations

from enum import StrEnum

from kb.models.tasks import TaskState


class TaskAction(StrEnum):
    LINK = "link"                            # a change request is named as the fix (or replaces the one linked)
    REQUEST_DECLINE = "request_decline"
    ACCEPT_DECLINE = "accept_decline"
    REJECT_DECLINE = "reject_decline"        # back to work, no change request linked
    REJECT_DECLINE_LINKED = "reject_decline_linked"  # back to work on the linked change request
    RESOLVE = "resolve"


_WORKABLE = (TaskState.OPEN, TaskState.IN_PROGRESS)
_NOT_CLOSED = (TaskState.OPEN, TaskState.IN_PROGRESS, TaskState.DECLINE_REQUESTED)

TASK_TRANSITIONS: dict[tuple[TaskState, TaskAction], TaskState] = {
    **{(state, TaskAction.LINK): TaskState.IN_PROGRESS for state in _WORKABLE},
    **{(state, TaskAction.REQUEST_DECLINE): TaskState.DECLINE_REQUESTED for state in _WORKABLE},
    (TaskState.DECLINE_REQUESTED, TaskAction.ACCEPT_DECLINE): TaskState.DECLINED,
    (TaskState.DECLINE_REQUESTED, TaskAction.REJECT_DECLINE): TaskState.OPEN,
    (TaskState.DECLINE_REQUESTED, TaskAction.REJECT_DECLINE_LINKED): TaskState.IN_PROGRESS,
    **{(state, TaskAction.RESOLVE): TaskState.RESOLVED for state in _NOT_CLOSED},
}


def allows(current: str, action: TaskAction) -> bool:
    return (TaskState(current), action) in TASK_TRANSITIONS


def next_task_state(current: str, action: TaskAction) -> TaskState:
    """The state after `action`; a KeyError when the table has no such move (callers check `allows` first,
    to refuse with a message that fits the use case)."""
    return TASK_TRANSITIONS[(TaskState(current), action)]
