"""The demo's history, played from history.json: knowledge work, correction tasks, flags, usage, the policy register.

'ago' in the data counts working days back from today; 'about' picks a
published entry of the unit whose question contains it; each `fix` is one
change request. `_work_on` makes a task end in the outcome its data names.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

from kb.calendar import to_shanghai
from kb.demo.base import UNITS, data
from kb.demo.cast import Demo
from kb.demo.timeline import Story
from kb.proposal import Proposal
from kb.services import changes, flags, policies, search, task_changes, tasks, verification
from kb.services.changes import ChangeRequestSnapshot

HISTORY = data("history.json")
SETTINGS = tasks.DEFAULT_SETTINGS


# --- knowledge work --------------------------------------------------------------------------------------------


def _modification(demo: Demo, spec: dict) -> Story:
    entry_id, unit = demo.take(spec["unit"], spec["about"]), spec["unit"]
    maintainer = demo.maintainer[unit]
    for step in (spec, spec.get("again")):
        if step is None:
            return
        start = demo.tl.at(step["ago"], "09:30")
        yield start
        cr = changes.create(demo.uow(), maintainer, kind="modify", entry_id=entry_id,
                            base_number=demo.version[entry_id], reason=step["reason"], now=demo.now(),
                            proposal=Proposal(answer=demo.answer_with(entry_id, step["line"])))
        yield from demo.carry(cr, maintainer, "published", review_at=demo.tl.later(start, 1, "10:30"),
                              decide_at=demo.tl.later(start, 1, "16:30"))


def _in_flight(demo: Demo, spec: dict) -> Story:
    """A modification stopped on its way: a draft, in either review, returned, or cancelled by its author."""
    entry_id, unit = demo.take(spec["unit"], spec["about"]), spec["unit"]
    maintainer = demo.maintainer[unit]
    start = demo.tl.at(spec["ago"], "10:10")
    yield start
    cr = changes.create(demo.uow(), maintainer, kind="modify", entry_id=entry_id, base_number=demo.version[entry_id],
                        reason=spec["reason"], now=demo.now(),
                        proposal=Proposal(answer=demo.answer_with(entry_id, spec["line"])))
    if spec["state"] == "cancelled":
        yield demo.tl.later(start, 1, "09:10")
        changes.cancel(demo.uow(), maintainer, cr.id, revision=cr.revision, now=demo.now())
        return
    yield from demo.carry(cr, maintainer, spec["state"], review_at=demo.tl.later(start, 1, "11:00"),
                          decide_at=demo.tl.later(start, 2, "15:00"), return_reason=spec.get("return"),
                          returned_by=spec.get("by", "unit"))


def _withdrawal(demo: Demo, spec: dict) -> Story:
    """Invalid knowledge reported for deletion, or a revocation."""
    entry_id, unit = demo.take(spec["unit"], spec["about"]), spec["unit"]
    maintainer = demo.maintainer[unit]
    start = demo.tl.at(spec["ago"], "09:50")
    yield start
    cr = changes.create(demo.uow(), maintainer, kind=spec["kind"], entry_id=entry_id,
                        base_number=demo.version[entry_id], reason=spec["reason"], now=demo.now())
    yield from demo.carry(cr, maintainer, spec.get("state", "published"), review_at=demo.tl.later(start, 1, "10:00"),
                          decide_at=demo.tl.later(start, 1, "15:30"))


def _suggestion(demo: Demo, spec: dict) -> Story:
    """The office's suggestion on a unit's entry (知识建议): reviewed like a change, publishes nothing."""
    entry_id = demo.take(spec["unit"], spec["about"])
    start = demo.tl.at(spec["ago"], "11:20")
    yield start
    cr = changes.create(demo.uow(), demo.office, kind="suggestion", entry_id=entry_id, reason=spec["reason"],
                        now=demo.now())
    yield from demo.carry(cr, demo.office, spec["state"], review_at=demo.tl.later(start, 1, "14:00"),
                          decide_at=demo.tl.later(start, 2, "10:00"))


def _moments(demo: Demo, spec: dict, count: int, hours: tuple[int, int], rng: random.Random) -> list:
    """`count` moments at random on the working days from `from_ago` to `to_ago`, in time order."""
    return sorted(demo.tl.at(rng.randint(spec["to_ago"], spec["from_ago"]),
                             f"{rng.randint(*hours):02d}:{rng.randrange(60):02d}") for _ in range(count))


def _verifications(demo: Demo, spec: dict, rng: random.Random) -> Story:
    """Unit reviewers confirming entries are still right (校核), a few of every unit's."""
    units = [code for code, _, _ in UNITS]
    picks: list[int] = []
    while len(picks) < spec["count"]:
        unit = units[len(picks) % len(units)]
        try:
            picks.append(demo.take(unit))
        except LookupError:
            units.remove(unit)
    for moment, entry_id in zip(_moments(demo, spec, len(picks), (9, 16), rng), picks):
        yield moment
        reviewer = demo.reviewer[demo.base[entry_id]["unit"]]
        verification.verify(demo.uow(), reviewer, entry_id, now=demo.now(), version=demo.version[entry_id],
                            note=rng.choice(spec["notes"]))


def _usages(demo: Demo, spec: dict, rng: random.Random) -> Story:
    """Operators using answers on calls, on whatever is published at the time."""
    for number, moment in enumerate(_moments(demo, spec, spec["count"], (8, 19), rng), 1):
        yield moment
        _use(demo, rng.choice(demo.live()), number)


def _use(demo: Demo, entry_id: int, number: int) -> None:
    now = demo.now()
    search.record_usage(demo.uow(), demo.operator, entry_id, search_id=None, now=now,
                        ticket_number=f"{to_shanghai(now):%Y%m%d}{number:04d}")


# --- correction tasks -----------------------------------------------------------------------------------------


def _fix_proposal(demo: Demo, task: tasks.TaskSnapshot, fix: dict, day: date, *, urgent: bool = False,
                  effective_on: date | None = None) -> Proposal:
    if "proposal" in fix:
        proposal = demo.new_proposal(fix["proposal"], day, effective_on=effective_on)
    else:
        proposal = Proposal(answer=demo.answer_with(task.entry_id, fix["line"]),
                            **{k: fix[k] for k in ("policy_number", "policy_title") if k in fix})
    return replace(proposal, urgent=True) if urgent else proposal


def _work_on(demo: Demo, task: tasks.TaskSnapshot, spec: dict, *, effective_on: date | None = None) -> Story:
    """What the unit (and the office) did with a task, so that it ends in `spec["outcome"]`."""
    tl, outcome = demo.tl, spec["outcome"]
    unit, received, due = task.unit_code, to_shanghai(task.received_at), to_shanghai(task.due_at)
    maintainer = demo.maintainer[unit]
    decline, fix = spec.get("decline"), spec.get("fix")
    if decline:
        yield tl.later(received, 1, "10:00")
        tasks.request_decline(demo.uow(), maintainer, task.id, justification=decline["justification"],
                              now=demo.now())
        if outcome == "declined" or "rejection" in decline:
            yield tl.later(received, 2, "09:30")
            accept = outcome == "declined"
            tasks.rule_on_decline(demo.uow(), demo.office, task.id, accept=accept,
                                  reason=decline["ruling"] if accept else decline["rejection"], now=demo.now())
    if not fix:
        return

    def draft(kind: str | None = None, *, urgent: bool = False) -> ChangeRequestSnapshot:
        now = demo.now()
        if kind == "delete":
            assert task.entry_id is not None  # a deletion fixes the task's entry
            return task_changes.start_change_request(demo.uow(), maintainer, task.id, now=now, kind="delete",
                                                     base_number=demo.version[task.entry_id], reason=fix["reason"])
        return task_changes.start_change_request(
            demo.uow(), maintainer, task.id, now=now,
            base_number=demo.version.get(task.entry_id) if task.entry_id else None,
            proposal=_fix_proposal(demo, task, fix, to_shanghai(now).date(), urgent=urgent,
                                   effective_on=effective_on))

    if task.source == "emergency":  # urgent knowledge, published by the office straight from the draft
        yield received + timedelta(minutes=20)
        cr = draft(urgent=True)
        yield received + timedelta(hours=2) if outcome == "resolved_on_time" else tl.later(received, 1, "09:20")
        demo.office_review(cr)
        return
    if outcome == "open":  # received lately: the work started the same day
        yield received + timedelta(hours=1)
        cr = draft()
        yield from demo.carry(cr, maintainer, fix["state"], review_at=received + timedelta(hours=3))
        return
    yield tl.later(received, 1, "09:30")
    cr = draft(fix.get("kind"))
    if outcome == "resolved_on_time":
        decide_at = tl.later(received, 2, "10:00")
        if decide_at > due:
            raise ValueError(f"demo: task {task.id} could not be fixed on time")
        yield from demo.carry(cr, maintainer, "published", review_at=tl.later(received, 1, "15:00"),
                              decide_at=decide_at)
    elif outcome == "resolved_late":  # returned once at unit review, reworked after the deadline
        cr = demo.submit(cr, maintainer)
        yield tl.later(received, 2, "10:00")
        cr = demo.unit_review(cr, return_reason=fix["return"])
        resubmit = tl.later(due, 1, "09:30")
        yield resubmit
        cr = changes.edit(demo.uow(), maintainer, cr.id, revision=cr.revision, now=demo.now(),
                          proposal=Proposal(answer=demo.answer_with(task.entry_id, fix["revised"])))
        yield from demo.carry(cr, maintainer, "published", review_at=tl.later(resubmit, 0, "15:00"),
                              decide_at=tl.later(resubmit, 1, "10:00"))
    else:  # open_overdue: stuck on the way
        yield from demo.carry(cr, maintainer, fix["state"], review_at=tl.later(received, 2, "10:00"),
                              return_reason=fix.get("return"))


def _task(demo: Demo, spec: dict) -> Story:
    unit = spec["unit"]
    entry_id = demo.take(unit, spec["about"]) if "about" in spec else None
    yield demo.tl.at(spec["ago"], spec.get("at", "09:15"))
    author = demo.maintainer[unit] if spec["source"] == "unit_self_found" else demo.office
    task = tasks.create_task(demo.uow(), author, source=spec["source"], detail=spec["detail"], now=demo.now(),
                             unit_code=unit if entry_id is None else None, entry_id=entry_id,
                             reason=spec.get("reason"))
    yield from _work_on(demo, task, spec)


def _flag(demo: Demo, spec: dict) -> Story:
    """An operator flags an answer (after using it on calls); the office passes it on as a task or dismisses it."""
    entry_id = demo.take(spec["unit"], spec["about"])
    for back in range(spec.get("usages_before", 0), 0, -1):
        yield demo.tl.at(spec["ago"] + back, "11:05")
        _use(demo, entry_id, 9000 + back)  # ticket numbers apart from those of `_usages`
    raised = demo.tl.at(spec["ago"], "10:15")
    yield raised
    flag = flags.raise_flag(demo.uow(), demo.operator, entry_id, kind=spec["kind"], text=spec["text"], now=demo.now())
    if "triage" not in spec:
        return
    yield demo.tl.later(raised, 1, "09:30")
    now = demo.now()
    flag = flags.triage(demo.uow(), demo.office, flag.id, decision=spec["triage"], reason=spec.get("reason"),
                        now=now)
    if spec["triage"] == "task":
        task = tasks.get_task(demo.uow(write=False), demo.office, flag.task_id, now=now)
        yield from _work_on(demo, task, spec["task"])


# --- the policy register --------------------------------------------------------------------------------------


def _register(demo: Demo, spec: dict, **extra) -> policies.PolicyChangeSnapshot:
    view = policies.register(
        demo.uow(), demo.office, doc_number=spec["doc_number"], title=spec["title"], issuer=spec["issuer"],
        published_on=extra.pop("published_on", None) or date.fromisoformat(spec["published_on"]),
        effective_on=extra.pop("effective_on", None) or date.fromisoformat(spec["effective_on"]),
        now=demo.now(), settings=SETTINGS, **extra)
    demo.policy_ids[view.doc_number] = view.id
    return view


def _policies(demo: Demo, specs: list[dict]) -> Story:
    for spec in specs:
        yield demo.tl.at(spec["ago"], "09:00")
        _register(demo, spec)


def _repeal(demo: Demo, spec: dict) -> Story:
    """A cited document is repealed: every citing entry gets a task (cites_repealed)."""
    citing = demo.take_all(spec["unit"], spec["about"])
    if len(citing) < 3:
        raise LookupError(f"demo: {spec['doc_number']} needs at least three citing entries, has {len(citing)}")
    replacement = spec["replacement"]
    yield demo.tl.at(replacement["ago"], "10:00")
    _register(demo, replacement, published_on=demo.tl.day(replacement["published_ago"]),
              effective_on=demo.tl.day(replacement["effective_ago"]))
    yield demo.tl.at(spec["ago"], "10:00")
    view = policies.change_status(demo.uow(), demo.office, demo.policy_ids[spec["doc_number"]], status="repealed",
                                  note=spec["note"], now=demo.now(), settings=SETTINGS)
    demo.repeal_task_ids = list(view.opened_task_ids)  # one per citing entry, in entry order; the rest stay overdue


def _repeal_fix(demo: Demo, spec: dict, index: int, fix: dict) -> Story:
    yield demo.tl.at(spec["ago"], "10:30")
    task = tasks.get_task(demo.uow(write=False), demo.office, demo.repeal_task_ids[index], now=demo.now())
    yield from _work_on(demo, task, {"outcome": "resolved_on_time", "fix": fix})


def _policy_change(demo: Demo, spec: dict) -> Story:
    """A new policy registered with its unit and date of effect: a policy-change task for the unit."""
    yield demo.tl.at(spec["ago"], "09:40")
    effective_on = demo.tl.today + timedelta(days=spec["effective_in_days"])
    view = _register(demo, spec, published_on=demo.tl.day(spec["published_ago"]), effective_on=effective_on,
                     unit_code=spec["unit"])
    task = tasks.get_task(demo.uow(write=False), demo.office, view.opened_task_ids[0], now=demo.now())
    yield from _work_on(demo, task, spec["task"], effective_on=effective_on)


def history_stories(demo: Demo, history: dict, seed: int) -> list[Story]:
    """Every storyline of the history, in the order they claim their entries (and play when at the same moment)."""
    repeal = history["repeal"]
    stories: list[Story] = [_policies(demo, history["policies"]), _repeal(demo, repeal),
                            _repeal_fix(demo, repeal, 0, repeal["fix"]),
                            _repeal_fix(demo, repeal, 1, {"kind": "delete", "reason": repeal["delete_reason"]}),
                            _policy_change(demo, history["policy_change"])]
    story_kinds: list[tuple[str, Callable[[Demo, dict], Story]]] = [
        ("modifications", _modification), ("in_flight", _in_flight), ("withdrawals", _withdrawal),
        ("suggestions", _suggestion), ("tasks", _task), ("flags", _flag)]
    for key, story in story_kinds:
        stories += [story(demo, spec) for spec in history[key]]
    stories.append(_verifications(demo, history["verifications"], random.Random(f"{seed}-verifications")))
    stories.append(_usages(demo, history["usages"], random.Random(f"{seed}-usages")))
    return stories
