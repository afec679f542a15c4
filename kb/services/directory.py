"""Units, users and API tokens.

Use cases return :class:`UnitSnapshot` and :class:`UserSnapshot` (defined in
:mod:`kb.services.accounts`, whose use cases return them too) and
:class:`TokenSnapshot`; labels are the dump schemas' (service/schemas/directory.py).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.access import Actor, require_role
from kb.db import UnitOfWork, UowFactory
from kb.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from kb.models import ApiToken, Role, Unit, UnitKind, User
from kb.services import accounts, audit
from kb.services.accounts import UnitSnapshot, UserSnapshot

__all__ = [
    "UnitSnapshot", "UserSnapshot", "TokenSnapshot", "TOKEN_PREFIX", "hash_token", "create_unit", "list_units",
    "get_unit", "get_unit_id", "create_user", "list_users", "get_user", "issue_token", "issue_token_for_role",
    "list_tokens", "revoke_token", "authenticate", "authenticate_until",
]

TOKEN_PREFIX = "kb_"
# Writing last_used_at on every request would turn reads into writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    # Tokens are 256-bit random, so a fast hash is as strong as a slow one here.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenSnapshot:
    """An API token's record; never the token itself (shown once, when issued, and not stored)."""

    id: int
    user_id: int
    prefix: str  # the token's first characters, to tell one's tokens apart
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None  # None: never expires

    @classmethod
    def of(cls, token: ApiToken) -> TokenSnapshot:
        return cls(id=token.id, user_id=token.user_id, prefix=token.prefix, label=token.label,
                   created_at=token.created_at, last_used_at=token.last_used_at, revoked_at=token.revoked_at,
                   expires_at=token.expires_at)


def _unit_audit(unit: UnitSnapshot) -> dict[str, Any]:
    """What the audit row of a new unit holds (the same keys since the first row)."""
    return {"id": unit.id, "code": unit.code, "name": unit.name, "kind": unit.kind,
            "kind_label": UnitKind(unit.kind).label, "parent_code": unit.parent_code,
            "liaison_name": unit.liaison_name, "liaison_phone": unit.liaison_phone}


def _user_audit(user: UserSnapshot) -> dict[str, Any]:
    """What the audit row of a new user holds (the same keys since the first row)."""
    return {"id": user.id, "name": user.name, "role": user.role, "active": user.active,
            "unit_code": user.unit_code, "username": user.username, "can_log_in": user.can_log_in}


def create_unit(uow: UnitOfWork, actor: Actor | None, *, code: str, name: str, kind: str,
                parent_code: str | None, now: datetime) -> UnitSnapshot:
    if actor is not None:
        require_role(actor, Role.OFFICE_ADMIN)
    if kind not in {k.value for k in UnitKind}:
        raise ValidationFailed({"kind": f"未知的单位类型：{kind}"})
    with uow:
        parent = None
        if parent_code:
            parent = uow.session.scalar(select(Unit).where(Unit.code == parent_code))
            if parent is None:
                raise ValidationFailed({"parent_code": f"上级单位 {parent_code} 不存在"})
        if uow.session.scalar(select(Unit.id).where((Unit.code == code) | (Unit.name == name))):
            raise Conflict(f"单位编码或名称已存在：{code} / {name}", code="unit_exists")
        unit = Unit(code=code, name=name, kind=kind, parent=parent, created_at=now)
        uow.session.add(unit)
        uow.session.flush()
        view = UnitSnapshot.of(unit)
        audit.record(uow.session, actor, "unit.create", "unit", unit.id, None, _unit_audit(view), now)
        uow.commit()
        return view


def list_units(uow: UnitOfWork) -> list[UnitSnapshot]:
    with uow:
        return [UnitSnapshot.of(u) for u in uow.session.scalars(select(Unit).order_by(Unit.code))]


def get_unit(uow: UnitOfWork, unit_id: int) -> UnitSnapshot:
    with uow:
        unit = uow.session.get(Unit, unit_id)
        if unit is None:
            raise NotFound("单位不存在", code="unit_not_found")
        return UnitSnapshot.of(unit)


def get_unit_id(session: Session, code: str) -> int:
    unit_id = session.scalar(select(Unit.id).where(Unit.code == code))
    if unit_id is None:
        raise NotFound(f"单位 {code} 不存在", code="unit_not_found")
    return unit_id


def create_user(uow: UnitOfWork, actor: Actor | None, *, name: str, role: str, unit_code: str | None,
                now: datetime, username: str | None = None, password: str | None = None,
                token_ttl: timedelta | None = None) -> tuple[UserSnapshot, str]:
    """Create a user with a first token (and, with a user name and password, a console log-in).

    Returns (user, token); the token is shown only now.
    """
    if actor is not None:
        require_role(actor, Role.OFFICE_ADMIN)
    try:
        role_ = Role(role)
    except ValueError:
        raise ValidationFailed({"role": f"未知的角色：{role}"}) from None
    if role_.belongs_to_unit and not unit_code:
        raise ValidationFailed({"unit_code": "单位知识员和单位审核人必须属于一个单位"})
    if password is not None and not username:
        raise ValidationFailed({"username": "设置密码须同时提供用户名"})
    if password is not None:
        accounts.check_password_rules(password, username)
    with uow:
        unit_id = get_unit_id(uow.session, unit_code) if unit_code else None
        if username is not None:
            accounts._check_username(uow.session, username, None)
        user = User(name=name, role=role_.value, unit_id=unit_id, active=True, created_at=now, username=username,
                    password_hash=accounts.hash_password(password) if password else None,
                    password_changed_at=now if password else None)
        uow.session.add(user)
        uow.session.flush()
        token = _add_token(uow.session, user, "initial", now, token_ttl)
        view = UserSnapshot.of(user)
        audit.record(uow.session, actor, "user.create", "user", user.id, None, _user_audit(view), now)
        uow.commit()
        return view, token


def _add_token(session: Session, user: User, label: str, now: datetime, ttl: timedelta | None = None) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:10], label=label,
                         created_at=now, expires_at=now + ttl if ttl else None))
    session.flush()
    return token


def list_users(uow: UnitOfWork, actor: Actor) -> list[UserSnapshot]:
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        return [UserSnapshot.of(u) for u in uow.session.scalars(select(User).order_by(User.id))]


def get_user(uow: UnitOfWork, user_id: int) -> UserSnapshot:
    with uow:
        user = uow.session.get(User, user_id)
        if user is None:
            raise NotFound("用户不存在", code="user_not_found")
        return UserSnapshot.of(user)


def issue_token(uow: UnitOfWork, actor: Actor, user_id: int, label: str, now: datetime,
                ttl: timedelta | None = None) -> tuple[TokenSnapshot, str]:
    if actor.user_id != user_id:
        require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        user = uow.session.get(User, user_id)
        if user is None:
            raise NotFound("用户不存在", code="user_not_found")
        if not user.active:
            raise ValidationFailed({"user_id": "用户已停用，不能签发令牌"})
        token = _add_token(uow.session, user, label, now, ttl)
        row = uow.session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).one()
        audit.record(uow.session, actor, "token.issue", "api_token", row.id, None, {"user_id": user_id}, now)
        view = TokenSnapshot.of(row)
        uow.commit()
        return view, token


def issue_token_for_role(uow: UnitOfWork, *, role: str, unit_code: str | None, label: str, now: datetime,
                         ttl: timedelta | None = None) -> str:
    """Operator convenience for the command line: a token for the first active user of a role."""
    with uow:
        query = select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
        if unit_code:
            query = query.join(Unit, Unit.id == User.unit_id).where(Unit.code == unit_code)
        user = uow.session.scalars(query).first()
        if user is None:
            raise NotFound(f"没有角色为 {role} 的用户" + (f"（单位 {unit_code}）" if unit_code else ""))
        token = _add_token(uow.session, user, label, now, ttl)
        audit.record(uow.session, None, "token.issue", "user", user.id, None, {"label": label}, now)
        uow.commit()
        return token


def list_tokens(uow: UnitOfWork, actor: Actor, user_id: int) -> list[TokenSnapshot]:
    if actor.user_id != user_id:
        require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        if uow.session.get(User, user_id) is None:
            raise NotFound(f"用户 {user_id} 不存在", code="user_not_found")
        return [TokenSnapshot.of(t) for t in uow.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))]


def revoke_token(uow: UnitOfWork, actor: Actor, token_id: int, now: datetime) -> TokenSnapshot:
    with uow:
        token = uow.session.get(ApiToken, token_id)
        if token is None:
            raise NotFound("令牌不存在", code="token_not_found")
        if token.user_id != actor.user_id:
            require_role(actor, Role.OFFICE_ADMIN)
        if token.revoked_at is None:
            token.revoked_at = now
            accounts.raise_credential_epoch(uow.session)
            audit.record(uow.session, actor, "token.revoke", "api_token", token.id, None,
                         {"user_id": token.user_id}, now)
        view = TokenSnapshot.of(token)
        uow.commit()
        return view


def authenticate(uow_factory: UowFactory, token: str, now: datetime) -> Actor:
    """The actor behind a bearer token. Reads only, unless last-used time is due a refresh."""
    return authenticate_until(uow_factory, token, now)[0]


def authenticate_until(uow_factory: UowFactory, token: str, now: datetime) -> tuple[Actor, datetime | None]:
    """The actor behind a bearer token and when the token expires (None: never)."""
    token_hash = hash_token(token)
    with uow_factory(write=False) as uow:
        row = uow.session.execute(
            select(ApiToken.id, ApiToken.revoked_at, ApiToken.last_used_at, ApiToken.expires_at, User)
            .join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == token_hash)).first()
        if row is None:
            raise Unauthenticated()
        token_id, revoked_at, last_used_at, expires_at, user = row
        if revoked_at is not None or not user.active:
            raise Unauthenticated("访问令牌已被吊销或用户已停用", code="token_revoked")
        if expires_at is not None and expires_at <= now:
            raise Unauthenticated("访问令牌已过期，请重新签发", code="token_expired")
        actor = Actor(user_id=user.id, role=Role(user.role), unit_id=user.unit_id, name=user.name)
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        with uow_factory(write=True) as uow:
            token_row = uow.session.get_one(ApiToken, token_id)
            token_row.last_used_at = now
            uow.commit()
    return actor, expires_at
