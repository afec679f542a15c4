"""The two state machines as tables: change requests (kb/workflow.py) and correction tasks (kb/task_workflow.py)."""
from __future__ import annotations

import pytest

from kb.errors import InvalidTransition
from kb.models.tasks import OPEN_STATES, TaskState
from kb.task_workflow import TASK_TRANSITIONS, TaskAction, allows, next_task_state
from kb.workflow import TRANSITIONS, Action, State, next_state


def _reachable(start, table) -> set:
    seen, frontier = {start}, [start]
    while frontier:
        state = frontier.pop()
        for (source, _), target in table.items():
            if source == state and target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


def test_every_change_request_state_is_reachable_from_a_draft():
    assert _reachable(State.DRAFT, TRANSITIONS) == set(State)


def test_published_declined_and_cancelled_change_requests_move_no_more():
    assert {source for source, _ in TRANSITIONS} == set(State) - {State.PUBLISHED, State.CANCELLED, State.DECLINED}


def test_the_office_may_publish_urgent_knowledge_from_every_open_state():
    open_states = {source for source, _ in TRANSITIONS}
    assert {source for source, action in TRANSITIONS if action is Action.PUBLISH_URGENT} == open_states
    assert all(TRANSITIONS[(s, Action.PUBLISH_URGENT)] is State.PUBLISHED for s in open_states)


def test_a_move_the_table_lacks_is_an_invalid_transition_naming_state_and_action():
    with pytest.raises(InvalidTransition) as refused:
        next_state("published", Action.EDIT)
    assert refused.value.details == {"state": "published", "action": "edit"}
    assert next_state("returned", Action.SUBMIT) is State.UNIT_REVIEW


def test_every_task_state_is_reachable_from_open():
    assert _reachable(TaskState.OPEN, TASK_TRANSITIONS) == set(TaskState)


def test_resolved_and_declined_tasks_move_no_more_and_every_other_state_resolves():
    assert {source for source, _ in TASK_TRANSITIONS} == {s for s in TaskState if not s.is_closed}
    resolvable = {source for source, action in TASK_TRANSITIONS if action is TaskAction.RESOLVE}
    assert {s.value for s in resolvable} == set(OPEN_STATES)


def test_only_an_open_or_in_progress_task_takes_a_change_request_or_asks_to_be_declined():
    for action in (TaskAction.LINK, TaskAction.REQUEST_DECLINE):
        assert [s for s in TaskState if allows(s.value, action)] == [TaskState.OPEN, TaskState.IN_PROGRESS]
    assert next_task_state("open", TaskAction.LINK) is TaskState.IN_PROGRESS


def test_a_rejected_decline_goes_back_to_work_where_it_was():
    assert next_task_state("decline_requested", TaskAction.REJECT_DECLINE) is TaskState.OPEN
    assert next_task_state("decline_requested", TaskAction.REJECT_DECLINE_LINKED) is TaskState.IN_PROGRESS
    assert next_task_state("decline_requested", TaskAction.ACCEPT_DECLINE) is TaskState.DECLINED
    with pytest.raises(KeyError):
        next_task_state("resolved", TaskAction.RESOLVE)
