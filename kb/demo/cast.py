"""The demo's cast (the office, an operator, each unit's maintainer and reviewer) and what it has done so far."""
from __future__ import annotations

from collections.abc import Generator
from datetime import date, datetime, timedelta

from kb.access import Actor
from kb.demo.timeline import DemoClock, Timeline
from kb.proposal import Proposal
from kb.services import changes
from kb.services.changes import ChangeRequestSnapshot
from kb.workflow import Check

ALL_PASS = {c.value: True for c in Check}


class Demo:
    """The demo's actors, its clock and timeline, and what it has published so far."""

    def __init__(self, uow_factory, clock: DemoClock, timeline: Timeline, category_ids: dict[str, int]):
        self.uow, self.now, self.tl, self.category_ids = uow_factory, clock, timeline, category_ids
        self.office: Actor | None = None
        self.operator: Actor | None = None
        self.maintainer: dict[str, Actor] = {}
        self.reviewer: dict[str, Actor] = {}
        self.base: dict[int, dict] = {}      # entries of the base load: id -> unit, question
        self.content: dict[int, Proposal] = {}  # entry id -> its published content
        self.version: dict[int, int] = {}    # entry id -> its published version number
        self.withdrawn: set[int] = set()
        self.taken: set[int] = set()         # entries a storyline has claimed
        self.policy_ids: dict[str, int] = {}
        self.repeal_task_ids: list[int] = []

    # entries

    def published(self, view: ChangeRequestSnapshot) -> ChangeRequestSnapshot:
        """Remember what a publication changed."""
        entry_id = view.entry_id
        assert entry_id is not None  # a published change names its entry
        if view.kind in ("delete", "revoke"):
            self.withdrawn.add(entry_id)
        elif view.kind in ("new", "modify"):
            assert view.published_version is not None  # and the version it published
            self.content[entry_id], self.version[entry_id] = view.proposal, view.published_version
        return view

    def take(self, unit: str, about: str | None = None) -> int:
        """A published base entry of the unit, about `about`, no other storyline has claimed."""
        for entry_id, entry in self.base.items():
            if entry_id not in self.taken and entry["unit"] == unit and (about is None or about in entry["question"]):
                self.taken.add(entry_id)
                return entry_id
        raise LookupError(f"demo: no published {unit} entry about {about!r} left to use")

    def take_all(self, unit: str, about: str) -> list[int]:
        found = []
        while True:
            try:
                found.append(self.take(unit, about))
            except LookupError:
                return found

    def live(self) -> list[int]:
        return [entry_id for entry_id in self.base if entry_id not in self.withdrawn]

    def answer_with(self, entry_id: int, line: str) -> str:
        """The published answer with one more numbered line."""
        answer = self.content[entry_id].value("answer")
        return f"{answer}\n{len(answer.splitlines()) + 1}. {line}"

    def new_proposal(self, spec: dict, day: date, *, effective_on: date | None = None) -> Proposal:
        expires = day + timedelta(days=spec["expires_in_days"]) if "expires_in_days" in spec else None
        return Proposal(
            question=spec["question"], similar_questions=tuple(spec["similar"]),
            answer="\n".join(f"{i}. {line}" for i, line in enumerate(spec["answer"], 1)),
            keywords=tuple(spec["keywords"]), category_id=self.category_ids[spec["category"]],
            policy_number=spec.get("policy_number"), policy_title=spec.get("policy_title"),
            effective_on=effective_on or day, expires_on=expires,
        )

    # change requests through review

    def submit(self, cr: ChangeRequestSnapshot, author: Actor) -> ChangeRequestSnapshot:
        return changes.submit(self.uow(), author, cr.id, revision=None, now=self.now())

    def unit_review(self, cr: ChangeRequestSnapshot, *, return_reason: str | None = None) -> ChangeRequestSnapshot:
        reviewer = self.reviewer[cr.unit_code]
        if return_reason:
            return changes.unit_review(self.uow(), reviewer, cr.id, approve=False,
                                       checks={**ALL_PASS, "clear": False}, reason=return_reason,
                                       revision=None, now=self.now())
        return changes.unit_review(self.uow(), reviewer, cr.id, approve=True, checks=ALL_PASS, reason=None,
                                   revision=None, now=self.now())

    def office_review(self, cr: ChangeRequestSnapshot, *,
                      return_reason: str | None = None) -> ChangeRequestSnapshot:
        if return_reason:
            return changes.office_review(self.uow(), self.office, cr.id, decision="return", reason=return_reason,
                                         revision=None, now=self.now())
        return self.published(changes.office_review(self.uow(), self.office, cr.id, decision="publish",
                                                    reason=None, revision=None, now=self.now()))

    def carry(self, cr: ChangeRequestSnapshot, author: Actor, target: str, *, review_at: datetime | None = None,
              decide_at: datetime | None = None, return_reason: str | None = None,
              returned_by: str = "unit") -> Generator[datetime, None, ChangeRequestSnapshot]:
        """Take a draft on to `target`: submitted now, unit review at `review_at`, the office's at `decide_at`."""
        if target == "draft":
            return cr
        cr = self.submit(cr, author)
        if target == "unit_review":
            return cr
        yield review_at
        if target == "returned" and returned_by == "unit":
            return self.unit_review(cr, return_reason=return_reason)
        cr = self.unit_review(cr)
        if target == "office_review":
            return cr
        yield decide_at
        if target == "returned":
            return self.office_review(cr, return_reason=return_reason)
        return self.office_review(cr)
