"""The use-case tier: use cases and steps driven with a real session (rolled back per test), no Flask, no index."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from kb.access import Actor
from tests.support.factories import World


@pytest.fixture
def world(session_factory, clock):
    return World(session_factory, clock)


@dataclass
class People:
    category: int
    unit_code: str
    maintainer: Actor
    reviewer: Actor
    office: Actor


@pytest.fixture
def people(world) -> People:
    """One unit with its maintainer and reviewer, and the hotline office."""
    categories = world.seed_categories()
    unit = world.make_unit("HX", "华山街道办事处", "town")
    maintainer, _ = world.make_user("maintainer", unit)
    reviewer, _ = world.make_user("unit_reviewer", unit)
    office, _ = world.make_user("office_admin")
    return People(category=next(iter(categories.values())), unit_code=unit.code, maintainer=maintainer,
                  reviewer=reviewer, office=office)
