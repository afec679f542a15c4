"""The base load: the catalogue's knowledge, reworded, collected and reviewed over the demo's first weeks.

Most of it is published, the rest stays in every workflow state. It is sized
so that the demo holds CHANGE_REQUESTS change requests and ENTRIES entries
with its history: the README walk-through's new change request and entry get
the next ids (261 and 157).
"""
from __future__ import annotations

import json
import random
from datetime import timedelta
from importlib import resources

from kb.demo.cast import Demo
from kb.demo.timeline import Story
from kb.proposal import Proposal
from kb.services import changes

CHANGE_REQUESTS = 260
ENTRIES = 156


def data(name: str) -> dict:
    return json.loads((resources.files("kb.demo") / name).read_text(encoding="utf-8"))


CATALOGUE = data("catalogue.json")
UNITS = tuple((u["code"], u["name"], u["kind"]) for u in CATALOGUE["units"])


def _catalogue_items() -> list[dict]:
    items = [dict(item) for item in CATALOGUE["knowledge"]]
    for code, name, kind in UNITS:
        if kind != "town":
            continue
        short = name.removesuffix("办事处")

        def fill(text: str) -> str:
            return text.format(town=name, short=short)

        for template in CATALOGUE["town_templates"]:
            items.append({"unit": code, "category": template["category"], "question": fill(template["question"]),
                          "similar": [fill(s) for s in template["similar"]],
                          "answer": [fill(line) for line in template["answer"]], "keywords": template["keywords"],
                          "policy_number": None})
    return items


def _reword(question: str, round_: int) -> str:
    rewordings = CATALOGUE["rewordings"]
    return f"{rewordings[(round_ - 1) % len(rewordings)]}{question}" if round_ else question


def planned(history: dict) -> tuple[int, int]:
    """How many change requests, and of them new entries, the history makes (each `fix` is one change request)."""
    task_specs = (history["tasks"] + [f["task"] for f in history["flags"] if "task" in f]
                  + [history["policy_change"]["task"]])
    change_requests = (len(history["modifications"]) + sum("again" in m for m in history["modifications"])
                       + len(history["in_flight"]) + len(history["withdrawals"]) + len(history["suggestions"])
                       + sum("fix" in t for t in task_specs) + 2)  # the repeal: one fix, one deletion
    entries = sum("proposal" in t.get("fix", {}) and t["outcome"].startswith("resolved") for t in task_specs)
    return change_requests, entries


def _base_targets(total: int, published: int) -> list[str]:
    """`published` of `total` published, the rest spread evenly over the other workflow states."""
    others = ("draft", "unit_review", "office_review", "returned")
    unpublished, targets = total - published, []
    for i in range(total):
        if (i + 1) * unpublished // total > i * unpublished // total:
            targets.append(others[(i * unpublished // total) % len(others)])
        else:
            targets.append("published")
    return targets


def _base_story(demo: Demo, item: dict, target: str, ago: int, rng: random.Random) -> Story:
    maintainer = demo.maintainer[item["unit"]]
    yield demo.tl.at(ago, "09:00")
    day = demo.tl.day(ago)
    effective = day - timedelta(days=rng.randrange(0, 300))
    notice = item["category"] == "通知公告" and rng.random() < 0.5
    proposal = Proposal(
        question=item["question"], similar_questions=tuple(item["similar"]),
        answer="\n".join(f"{i}. {line}" for i, line in enumerate(item["answer"], 1)),
        keywords=tuple(item["keywords"]), category_id=demo.category_ids[item["category"]],
        policy_number=item["policy_number"], policy_attachments=rng.randrange(0, 3),
        policy_title="相关政策文件" if item["policy_number"] else None, effective_on=effective,
        expires_on=demo.tl.today + timedelta(days=rng.randrange(30, 180)) if notice else None,
        urgent=False, format="qa" if rng.random() < 0.85 else "document",
    )
    cr = changes.create(demo.uow(), maintainer, kind="new", now=demo.now(), proposal=proposal)
    cr = yield from demo.carry(cr, maintainer, target, review_at=demo.tl.at(ago, "14:00"),
                               decide_at=demo.tl.at(ago, "16:00"), return_reason="表述不够清晰，请补充办理时限")
    if target == "published":
        assert cr.entry_id is not None  # published: it has its entry
        demo.base[cr.entry_id] = {"unit": item["unit"], "question": item["question"]}


def base_stories(demo: Demo, history: dict, rng: random.Random) -> list[Story]:
    planned_crs, planned_entries = planned(history)
    total, published = CHANGE_REQUESTS - planned_crs, ENTRIES - planned_entries
    catalogue = _catalogue_items()
    items = [{**item, "question": _reword(item["question"], round_)}
             for round_ in range(5) for item in catalogue][:total]
    span, days = history["span_working_days"], history["base_days"]
    return [_base_story(demo, item, target, span - i * days // total, rng)
            for i, (item, target) in enumerate(zip(items, _base_targets(total, published)))]
