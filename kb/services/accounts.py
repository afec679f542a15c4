"""Accounts people log in to: passwords, console sessions, log-in throttling, deactivation.

Passwords are hashed with argon2id (argon2-cffi). A console session is a row
(its id's SHA-256; the id lives only in the browser's cookie), so logging out,
deactivating a user or resetting a password ends it on every worker and host
at the next request. Failed attempts are rows too, counted per account and
per address over a window, so throttling holds across workers and hosts.

The results of the directory (:mod:`kb.services.directory`) that these use
cases return too, :class:`UnitSnapshot` and :class:`UserSnapshot`, are defined
here, below it.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from kb.access import Actor, require_role
from kb.errors import Conflict, NotFound, TooManyAttempts, Unauthenticated, ValidationFailed
from kb.models import CredentialEpoch, LoginAttempt, LoginSession, Role, Unit, User
from kb.db import UnitOfWork, UowFactory
from kb.services import audit

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, t=3)
# Verified against when the user name is unknown, so an unknown name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
# Writing last_seen_at on every page would turn every read into a write.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitSnapshot:
    """A unit (承办单位) as read in the transaction."""

    id: int
    code: str
    name: str
    kind: str  # a UnitKind value
    parent_code: str | None
    liaison_name: str | None
    liaison_phone: str | None

    @classmethod
    def of(cls, unit: Unit) -> UnitSnapshot:
        return cls(id=unit.id, code=unit.code, name=unit.name, kind=unit.kind,
                   parent_code=unit.parent.code if unit.parent else None, liaison_name=unit.liaison_name,
                   liaison_phone=unit.liaison_phone)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserSnapshot:
    """A user as read in the transaction; never its password hash."""

    id: int
    name: str
    role: str  # a Role value
    active: bool
    unit_code: str | None
    username: str | None
    can_log_in: bool  # has a user name and a password: may log in to the console

    @classmethod
    def of(cls, user: User) -> UserSnapshot:
        return cls(id=user.id, name=user.name, role=user.role, active=user.active,
                   unit_code=user.unit.code if user.unit else None, username=user.username,
                   can_log_in=bool(user.username and user.password_hash))


@dataclass(frozen=True)
class LoginPolicy:
    """How long sessions last and how many failed log-ins are tolerated (settings in service/config.py)."""

    max_failures_per_account: int = 5
    max_failures_per_address: int = 20
    failure_window: timedelta = timedelta(minutes=15)
    idle_timeout: timedelta = timedelta(hours=4)
    absolute_timeout: timedelta = timedelta(hours=12)


def raise_credential_epoch(session: Session) -> None:
    """Every process forgets the tokens it remembered within a second (service.auth)."""
    epoch = session.get(CredentialEpoch, 1, with_for_update=True)
    if epoch is None:
        session.add(CredentialEpoch(id=1, value=1))
    else:
        epoch.value += 1
    session.flush()


def credential_epoch(uow_factory: UowFactory) -> int:
    with uow_factory(write=False) as uow:
        return uow.session.scalar(select(CredentialEpoch.value).where(CredentialEpoch.id == 1)) or 0


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def check_password_rules(password: str, username: str | None) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({"password": f"密码至少 {MIN_PASSWORD_LENGTH} 位"})
    if len(password) > 256:
        raise ValidationFailed({"password": "密码不能超过 256 位"})
    if username and password.lower() == username.lower():
        raise ValidationFailed({"password": "密码不能与用户名相同"})
    if password.isdigit() or password.isalpha():
        raise ValidationFailed({"password": "密码须同时包含字母和数字（或符号）"})


def identify_by_password(uow: UnitOfWork, *, username: str, password: str, address: str, now: datetime,
                         policy: LoginPolicy) -> int:
    """The id of the active user with these credentials, or an error; every attempt is recorded.

    Throttled before the password is checked, so a locked account cannot be probed further.
    """
    username = (username or "").strip()[:64]
    address = (address or "")[:64]
    since = now - policy.failure_window
    with uow:
        s = uow.session
        failures = select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.attempted_at > since, LoginAttempt.succeeded.is_(False))
        if ((s.scalar(failures.where(LoginAttempt.username == username)) or 0) >= policy.max_failures_per_account
                or (s.scalar(failures.where(LoginAttempt.address == address)) or 0)
                >= policy.max_failures_per_address):
            minutes = int(policy.failure_window.total_seconds() // 60)
            raise TooManyAttempts(f"登录失败次数过多，请 {minutes} 分钟后再试",
                                  details={"retry_after": int(policy.failure_window.total_seconds())})
        user = s.scalar(select(User).where(User.username == username)) if username else None
        ok = _verify(user.password_hash if user else None, password or "")
        ok = ok and user is not None and user.active
        s.add(LoginAttempt(username=username, address=address, attempted_at=now, succeeded=ok))
        # Old attempts say nothing about the window; keep the table small.
        s.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - timedelta(days=30)))
        uow.commit()
    if not ok or user is None:
        raise Unauthenticated("用户名或密码错误", code="login_failed")
    return user.id


def open_session(uow: UnitOfWork, user_id: int, *, address: str, now: datetime) -> str:
    """A new console session for a user already identified; returns its id (shown only to the browser)."""
    session_id = secrets.token_urlsafe(32)
    with uow:
        user = uow.session.get(User, user_id)
        if user is None or not user.active:
            raise Unauthenticated("用户不存在或已停用", code="user_inactive")
        uow.session.add(LoginSession(user_id=user_id, token_hash=_session_hash(session_id), created_at=now,
                                     last_seen_at=now, address=(address or "")[:64]))
        audit.record(uow.session, _actor(user), "user.login", "user", user.id, None, {"address": address}, now)
        uow.commit()
    return session_id


def _actor(user: User) -> Actor:
    return Actor(user_id=user.id, role=Role(user.role), unit_id=user.unit_id, name=user.name)


def session_actor(uow_factory: UowFactory, session_id: str, *, now: datetime, policy: LoginPolicy) -> Actor:
    """The actor behind a console session; ended, idle, too old or deactivated → Unauthenticated."""
    with uow_factory(write=False) as uow:
        row = uow.session.execute(
            select(LoginSession.id, LoginSession.created_at, LoginSession.last_seen_at, LoginSession.ended_at, User)
            .join(User, User.id == LoginSession.user_id)
            .where(LoginSession.token_hash == _session_hash(session_id))).first()
        if row is None:
            raise Unauthenticated("请先登录", code="login_required")
        row_id, created_at, last_seen_at, ended_at, user = row
        if ended_at is not None or not user.active:
            raise Unauthenticated("登录已失效，请重新登录", code="session_ended")
        if now - last_seen_at > policy.idle_timeout or now - created_at > policy.absolute_timeout:
            raise Unauthenticated("登录已超时，请重新登录", code="session_expired")
        actor = _actor(user)
    if now - last_seen_at > LAST_SEEN_RESOLUTION:
        with uow_factory(write=True) as uow:
            uow.session.execute(update(LoginSession).where(LoginSession.id == row_id).values(last_seen_at=now))
            uow.commit()
    return actor


def end_session(uow: UnitOfWork, session_id: str, *, now: datetime) -> None:
    with uow:
        uow.session.execute(update(LoginSession).where(
            LoginSession.token_hash == _session_hash(session_id), LoginSession.ended_at.is_(None))
            .values(ended_at=now))
        uow.commit()


def _end_sessions_of(session: Session, user_id: int, now: datetime, *, keep_hash: str | None = None) -> int:
    query = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
    if keep_hash:
        query = query.where(LoginSession.token_hash != keep_hash)
    result = cast("CursorResult[Any]", session.execute(query.values(ended_at=now)))
    return result.rowcount or 0


def _load_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在", code="user_not_found")
    return user


def change_own_password(uow: UnitOfWork, actor: Actor, *, current_password: str, new_password: str, now: datetime,
                        keep_session_id: str | None = None) -> None:
    """A user's own change: proves the current password; the user's other sessions end."""
    with uow:
        user = _load_user(uow.session, actor.user_id)
        if not _verify(user.password_hash, current_password or ""):
            raise ValidationFailed({"current_password": "当前密码不正确"})
        check_password_rules(new_password, user.username)
        user.password_hash = hash_password(new_password)
        user.password_changed_at = now
        _end_sessions_of(uow.session, user.id, now,
                         keep_hash=_session_hash(keep_session_id) if keep_session_id else None)
        audit.record(uow.session, actor, "user.password_change", "user", user.id, None, None, now)
        uow.commit()


def set_credentials(uow: UnitOfWork, actor: Actor | None, user_id: int, *, username: str | None = None,
                    password: str, now: datetime) -> UserSnapshot:
    """The office sets (or resets) a user's log-in; every session of that user ends."""
    if actor is not None:
        require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        user = _load_user(uow.session, user_id)
        if username is not None:
            _check_username(uow.session, username, user.id)
            user.username = username
        if not user.username:
            raise ValidationFailed({"username": "请先为该用户设置用户名"})
        check_password_rules(password, user.username)
        user.password_hash = hash_password(password)
        user.password_changed_at = now
        _end_sessions_of(uow.session, user.id, now)
        audit.record(uow.session, actor, "user.password_reset", "user", user.id, None,
                     {"username": user.username}, now)
        view = UserSnapshot.of(user)
        uow.commit()
        return view


def _check_username(session: Session, username: str, user_id: int | None) -> None:
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise ValidationFailed({"username": "用户名为 1–64 个字符，不含空格"})
    other = session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
    if other is not None and other != user_id:
        raise Conflict(f"用户名 {username} 已被使用", code="username_taken")


def set_active(uow: UnitOfWork, actor: Actor, user_id: int, *, active: bool, now: datetime) -> UserSnapshot:
    """Deactivate (or reactivate) a user. A deactivated user's sessions end and its tokens stop working."""
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        user = _load_user(uow.session, user_id)
        if user.id == actor.user_id and not active:
            raise ValidationFailed({"active": "不能停用自己的账号"})
        before = user.active
        user.active = active
        ended = 0 if active else _end_sessions_of(uow.session, user.id, now)
        if before and not active:
            raise_credential_epoch(uow.session)
        if before != active:
            audit.record(uow.session, actor, "user.activate" if active else "user.deactivate", "user", user.id,
                         {"active": before}, {"active": active, "sessions_ended": ended}, now)
        view = UserSnapshot.of(user)
        uow.commit()
        return view


UNIT_EDITABLE = ("code", "name", "liaison_name", "liaison_phone")


def update_unit(uow: UnitOfWork, actor: Actor, unit_code: str, changes: dict[str, str | None], *,
                now: datetime) -> UnitSnapshot:
    """The office edits a unit's name, code or liaison contact."""
    require_role(actor, Role.OFFICE_ADMIN)
    unknown = set(changes) - set(UNIT_EDITABLE)
    if unknown:
        raise ValidationFailed({k: "不可修改的字段" for k in unknown})
    with uow:
        s = uow.session
        unit = s.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise NotFound(f"单位 {unit_code} 不存在", code="unit_not_found")
        for field in ("code", "name"):
            if field in changes:
                value = (changes[field] or "").strip()
                if not value:
                    raise ValidationFailed({field: "不能为空"})
                clash = s.scalar(select(Unit.id).where(getattr(Unit, field) == value, Unit.id != unit.id))
                if clash is not None:
                    raise Conflict(f"单位{'编码' if field == 'code' else '名称'}已存在：{value}", code="unit_exists")
                changes[field] = value
        before = {k: getattr(unit, k) for k in changes}
        for key, new in changes.items():
            setattr(unit, key, new or None if key.startswith("liaison") else new)
        audit.record(s, actor, "unit.update", "unit", unit.id, before, dict(changes), now)
        s.flush()
        view = UnitSnapshot.of(unit)
        uow.commit()
        return view
