"""A correction task answered by a change request: drafting the fix and linking it, in one transaction.

The use case combines two steps, `changes.draft` and `tasks.link`, inside one
unit of work and commits once: the draft never exists without its link.
"""
from __future__ import annotations

from datetime import datetime

from kb.access import Actor
from kb.db import UnitOfWork
from kb.models import ChangeKind
from kb.proposal import Proposal
from kb.services import changes, tasks


def start_change_request(uow: UnitOfWork, actor: Actor, task_id: int, *, now: datetime, kind: str | None = None,
                         base_number: int | None = None, proposal: Proposal | None = None,
                         reason: str | None = None,
                         near_duplicates: changes.NearDuplicates | None = None) -> changes.ChangeRequestSnapshot:
    """Draft the change that fixes a task, linked to it: a modification of its entry, or new knowledge for a gap."""
    with uow:
        s = uow.session
        task = tasks.workable(s, actor, task_id)
        kind = kind or (ChangeKind.MODIFY.value if task.entry_id is not None else ChangeKind.NEW.value)
        cr, warnings = changes.draft(
            s, actor, kind=kind, now=now, entry_id=task.entry_id if kind != ChangeKind.NEW.value else None,
            base_number=base_number, proposal=proposal, reason=reason,
            unit_code=task.unit.code if actor.is_office else None, near_duplicates=near_duplicates)
        view = changes.ChangeRequestSnapshot.of(cr, warnings)
        tasks.link(s, actor, task, cr, now)
        uow.commit()
        return view
