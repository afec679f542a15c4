"""Demo data: units of every kind, one user per role, a few hundred entries, and four months of their history.

Everything goes through the use cases, on a clock the demo moves itself over
the working days before today (Asia/Shanghai): entries are published, then
modified (several versions), deleted as invalid or revoked, verified and used
on calls; correction tasks arrive from the office, city notices, the units
themselves, an emergency, operators' flags and the policy register, and end in
every outcome (on time, late, open and overdue, open, declined). So the
compliance counts of past months, the scores, the inboxes and the task lists
all have something to show on a fresh demo. Deterministic for a given seed and day.

The data is in this folder: catalogue.json (units and knowledge, loaded by
`base`) and history.json (what happened to them, played by `storylines`).
"""
from __future__ import annotations

import random

from sqlalchemy import func, select

from kb.access import Actor
from kb.calendar import to_shanghai
from kb.demo.base import UNITS, base_stories
from kb.demo.cast import Demo
from kb.demo.storylines import HISTORY, history_stories
from kb.demo.timeline import DemoClock, Timeline, play
from kb.errors import Conflict
from kb.models import KnowledgeEntry, Role, Unit
from kb.services import categories, directory
from kb.services.calendar_store import load_calendar

__all__ = ["DEMO_PASSWORD", "load_demo"]

# Every demo account's password (the demo is for trying the product, never for real data).
DEMO_PASSWORD = "demo-12345"


def load_demo(uow_factory, clock, *, seed: int = 12345, skip_if_loaded: bool = False) -> list[dict] | None:
    """Load the demo, its history ending just before `clock()`; the users with their tokens."""
    with uow_factory(write=False) as uow:
        if skip_if_loaded and uow.session.scalar(select(func.count()).select_from(KnowledgeEntry)):
            return None
        loaded = uow.session.scalars(select(Unit.code).where(Unit.code.in_([code for code, _, _ in UNITS]))
                                     .order_by(Unit.code)).all()
        calendar = load_calendar(uow.session)
    if loaded:  # refused before anything is written, not half-way through the units
        if skip_if_loaded:
            return None
        raise Conflict(f"演示数据已加载：单位 {'、'.join(loaded[:3])}{' 等' if len(loaded) > 3 else ''}已存在",
                       code="demo_loaded")
    with uow_factory() as uow:
        categories.seed_categories(uow.session)
        uow.commit()
    category_ids = {c.name: c.id for c in categories.list_categories(uow_factory(write=False))}

    real_now = clock()
    span = HISTORY["span_working_days"]
    timeline = Timeline(calendar, to_shanghai(real_now).date(), span)
    demo_clock = DemoClock(timeline.at(span, "08:30"), limit=real_now)
    demo = Demo(uow_factory, demo_clock, timeline, category_ids)

    created: list[dict] = []

    def add_user(name: str, role: str, unit_code: str | None, unit_id: int | None,
                 username: str | None) -> Actor:
        password = DEMO_PASSWORD if username else None
        user, token = directory.create_user(uow_factory(), None, name=name, role=role, unit_code=unit_code,
                                            now=demo_clock(), username=username, password=password)
        created.append({"id": user.id, "name": name, "role": role, "unit_code": unit_code,
                        "username": username, "password": password, "token": token})
        return Actor(user_id=user.id, role=Role(role), unit_id=unit_id, name=name)

    units = {}
    for code, name, kind in UNITS:
        units[code] = directory.create_unit(uow_factory(), None, code=code, name=name, kind=kind,
                                            parent_code=None, now=demo_clock())
    demo.office = add_user("热线办管理员", "office_admin", None, None, "office")
    demo.operator = add_user("话务员小李", "operator", None, None, "operator")
    add_user("考核引擎", "scorer", None, None, None)  # a machine client: a token, no log-in
    for code in units:
        demo.maintainer[code] = add_user(f"{code}知识员", "maintainer", code, units[code].id,
                                         f"{code.lower()}-maintainer")
        demo.reviewer[code] = add_user(f"{code}审核人", "unit_reviewer", code, units[code].id,
                                       f"{code.lower()}-reviewer")

    play(base_stories(demo, HISTORY, random.Random(seed)), demo_clock)
    play(history_stories(demo, HISTORY, seed), demo_clock)
    return created
