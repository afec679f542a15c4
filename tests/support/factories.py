"""Factories with realistic defaults; they go through the use cases, as users would."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

from kb.access import Actor
from kb.db import UnitOfWork
from kb.models import Role
from kb.proposal import Proposal
from kb.services import categories, changes, directory
from kb.services.changes import ChangeRequestSnapshot
from kb.workflow import Check

ALL_CHECKS_PASS = {c.value: True for c in Check}
_seq = itertools.count(1)


@dataclass
class World:
    session_factory: object
    clock: object

    def uow(self, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.session_factory, write=write)

    def make_unit(self, code: str | None = None, name: str | None = None,
                  kind: str = "department") -> directory.UnitSnapshot:
        n = next(_seq)
        return directory.create_unit(self.uow(), None, code=code or f"U{n:03d}", name=name or f"测试单位{n}",
                                     kind=kind, parent_code=None, now=self.clock())

    def make_user(self, role: str, unit: directory.UnitSnapshot | None = None,
                  name: str | None = None) -> tuple[Actor, str]:
        user, token = directory.create_user(self.uow(), None, name=name or f"{role}-{next(_seq)}", role=role,
                                            unit_code=unit.code if unit else None, now=self.clock())
        actor = Actor(user_id=user.id, role=Role(role), unit_id=unit.id if unit else None, name=user.name)
        return actor, token

    def seed_categories(self) -> dict[str, int]:
        with self.uow() as uow:
            categories.seed_categories(uow.session)
            uow.commit()
        return {c.name: c.id for c in categories.list_categories(self.uow(write=False))}

    def proposal(self, category_id: int, **overrides) -> Proposal:
        n = next(_seq)
        base = {
            "question": f"灵活就业人员如何办理社会保险参保登记（{n}）？",
            "similar_questions": ["自由职业怎么交社保", "灵活就业社保在哪办"],
            "answer": "一、办理地点：区政务服务中心社保窗口。\n二、所需材料：居民身份证原件。\n三、办理时限：即时办结。",
            "keywords": ["社保", "灵活就业", "参保登记"],
            "category_id": category_id,
            "policy_title": "关于进一步做好灵活就业人员参保工作的通知",
            "policy_number": "鲁人社字〔2021〕12号",
            "policy_attachments": 0,
            "effective_on": date(2026, 1, 1),
            "expires_on": None,
            "urgent": False,
            "format": "qa",
        }
        base.update(overrides)
        return Proposal.of(base)

    def publish_new(self, maintainer: Actor, reviewer: Actor, office: Actor, category_id: int,
                    **overrides) -> ChangeRequestSnapshot:
        cr = changes.create(self.uow(), maintainer, kind="new", now=self.clock(),
                            proposal=self.proposal(category_id, **overrides))
        return self.carry_through(cr, reviewer, office)

    def carry_through(self, cr: ChangeRequestSnapshot, reviewer: Actor, office: Actor) -> ChangeRequestSnapshot:
        now = self.clock()
        cr = changes.submit(self.uow(), _creator(cr, reviewer), cr.id, revision=None, now=now) \
            if cr.state in ("draft", "returned") else cr
        cr = changes.unit_review(self.uow(), reviewer, cr.id, approve=True, checks=ALL_CHECKS_PASS,
                                 reason=None, revision=None, now=now)
        return changes.office_review(self.uow(), office, cr.id, decision="publish", reason=None,
                                     revision=None, now=now)


def _creator(cr: ChangeRequestSnapshot, reviewer: Actor) -> Actor:
    # Submitting is the maintainer's act; any maintainer-role actor of the unit may do it.
    return Actor(user_id=cr.created_by, role=Role.MAINTAINER, unit_id=reviewer.unit_id)
