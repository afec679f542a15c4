"""Who may do what (谁提供谁负责), as pure rules over an actor.

The HTTP layer authenticates; these rules decide. Maintainers and reviewers
act only on their own unit's knowledge, operators read published knowledge,
the office sees and publishes everything, the scorer reads compliance only.
"""
from __future__ import annotations

from dataclasses import dataclass

from kb.errors import PermissionDenied
from kb.models.units import Role

ROLE_LABELS = {
    Role.OPERATOR: "话务员", Role.MAINTAINER: "单位知识员", Role.UNIT_REVIEWER: "单位审核人",
    Role.OFFICE_ADMIN: "热线办", Role.SCORER: "考核引擎",
}


@dataclass(frozen=True)
class Actor:
    user_id: int
    role: Role
    unit_id: int | None = None
    name: str = ""

    @property
    def is_office(self) -> bool:
        return self.role is Role.OFFICE_ADMIN


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        allowed = "、".join(ROLE_LABELS[r] for r in roles)
        raise PermissionDenied(f"{ROLE_LABELS[actor.role]}无权执行此操作（仅限：{allowed}）")


def require_unit_scope(actor: Actor, unit_id: int) -> None:
    """Office sees all units; unit roles only their own."""
    if actor.is_office:
        return
    if actor.role.belongs_to_unit and actor.unit_id == unit_id:
        return
    raise PermissionDenied("只能处理本单位的知识（谁提供谁负责）")


def can_see_unpublished(actor: Actor, unit_id: int) -> bool:
    return actor.is_office or (actor.role.belongs_to_unit and actor.unit_id == unit_id)
