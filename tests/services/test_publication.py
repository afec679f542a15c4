"""Publishing a change, and what follows from it in the same transaction (kb/services/reactions.py)."""
from __future__ import annotations

import typing

import pytest
from sqlalchemy import func, select

from kb import events
from kb.errors import StaleVersion, ValidationFailed
from kb.models import ChangeRequest, KnowledgeEntry
from kb.proposal import Proposal
from kb.services import changes, reactions, task_changes, tasks, verification


def _published_entry(world, people, **overrides) -> changes.ChangeRequestSnapshot:
    return world.publish_new(people.maintainer, people.reviewer, people.office, people.category, **overrides)


def _feedback_task(world, people, entry_id: int) -> dict:
    return tasks.create_task(world.uow(), people.office, source="office_feedback", reason="incomplete",
                             detail="答案中的办理地点已搬迁", now=world.clock(), entry_id=entry_id)


def test_every_domain_event_has_a_row_in_the_reactions_table():
    assert set(typing.get_args(events.Event)) == set(reactions.REACTIONS)


def test_publishing_the_change_that_fixes_a_task_resolves_the_task_with_the_published_version(world, people):
    entry = _published_entry(world, people)
    task = _feedback_task(world, people, entry.entry_id)
    draft = task_changes.start_change_request(world.uow(), people.maintainer, task.id, now=world.clock(),
                                              base_number=1, proposal=Proposal(answer="办理地点：新政务服务中心。"))
    linked = tasks.get_task(world.uow(write=False), people.office, task.id, now=world.clock())
    assert linked.state == "in_progress" and linked.change_request_id == draft.id

    published = world.carry_through(draft, people.reviewer, people.office)

    resolved = tasks.get_task(world.uow(write=False), people.office, task.id, now=world.clock())
    assert published.state == "published" and published.published_version == 2
    assert resolved.state == "resolved" and resolved.resolved_version == 2
    assert resolved.outcome == "resolved_on_time"


def test_a_fix_that_cannot_be_linked_leaves_no_draft_behind(world, people):
    entry = _published_entry(world, people)
    task = _feedback_task(world, people, entry.entry_id)
    with world.uow(write=False) as uow:
        before = uow.session.scalar(select(func.count()).select_from(ChangeRequest))

    with pytest.raises(ValidationFailed) as refused:  # a suggestion changes no knowledge: it cannot fix a task
        task_changes.start_change_request(world.uow(), people.maintainer, task.id, now=world.clock(),
                                          kind="suggestion", reason="建议核实地址")

    assert "change_request_id" in refused.value.details["errors"]
    with world.uow(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(ChangeRequest)) == before
    assert tasks.get_task(world.uow(write=False), people.office, task.id, now=world.clock()).state == "open"


def test_steps_combine_in_one_transaction_draft_and_urgent_publication(world, people):
    """The shape of a bulk import or a console action: several steps, one dispatch, one commit."""
    with world.uow() as uow:
        cr, _ = changes.draft(uow.session, people.office, kind="new", now=world.clock(),
                              unit_code=people.unit_code, proposal=world.proposal(people.category, urgent=True))
        changes.publish(uow.session, people.office, cr, reason="突发事项", now=world.clock())
        reactions.dispatch(uow.session)
        uow.commit()

    with world.uow(write=False) as uow:
        entry = uow.session.get(KnowledgeEntry, cr.entry_id)
        assert entry is not None and entry.status == "published" and entry.published_number == 1
        assert uow.session.get(ChangeRequest, cr.id).published_directly is True


def test_a_unit_of_work_refuses_to_commit_events_nobody_dispatched(world, people):
    with world.uow() as uow:
        cr, _ = changes.draft(uow.session, people.office, kind="new", now=world.clock(),
                              unit_code=people.unit_code, proposal=world.proposal(people.category, urgent=True))
        changes.publish(uow.session, people.office, cr, reason=None, now=world.clock())
        with pytest.raises(RuntimeError, match="not dispatched"):
            uow.commit()

    with world.uow(write=False) as uow:  # and nothing of it was kept
        assert uow.session.get(ChangeRequest, cr.id) is None


def test_a_modification_based_on_a_version_no_longer_current_is_refused(world, people):
    entry = _published_entry(world, people)
    first = changes.create(world.uow(), people.maintainer, kind="modify", entry_id=entry.entry_id,
                           base_number=1, proposal=Proposal(answer="第一次修改。"), now=world.clock())
    world.carry_through(first, people.reviewer, people.office)  # version 2 is live

    with pytest.raises(StaleVersion) as stale:
        changes.create(world.uow(), people.maintainer, kind="modify", entry_id=entry.entry_id,
                       base_number=1, proposal=Proposal(answer="基于旧版本的修改。"), now=world.clock())

    assert stale.value.details == {"base_version": 1, "current_version": 2}


def test_publishing_a_deletion_withdraws_the_entry_and_resolves_its_open_tasks(world, people):
    entry = _published_entry(world, people)
    task = _feedback_task(world, people, entry.entry_id)
    deletion = changes.create(world.uow(), people.maintainer, kind="delete", entry_id=entry.entry_id,
                              base_number=1, reason="事项已取消", now=world.clock())

    world.carry_through(deletion, people.reviewer, people.office)

    resolved = tasks.get_task(world.uow(write=False), people.office, task.id, now=world.clock())
    assert resolved.state == "resolved" and resolved.resolved_version is None
    with world.uow(write=False) as uow:
        assert uow.session.get(KnowledgeEntry, entry.entry_id).status == "withdrawn"


def test_verifying_an_entry_returns_what_was_confirmed_as_a_typed_result(world, people):
    entry = _published_entry(world, people)
    verified = verification.verify(world.uow(), people.reviewer, entry.entry_id, now=world.clock(), version=1)

    assert verified == verification.Verified(entry_id=entry.entry_id, version=1, verified_at=world.clock(),
                                             verified_by=people.reviewer.user_id, resolved_task_ids=())
    with pytest.raises(StaleVersion):
        verification.verify(world.uow(), people.reviewer, entry.entry_id, now=world.clock(), version=2)
