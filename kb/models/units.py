"""Units (承办单位), users with one role each, and their API tokens."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.db import Base
from kb.models.types import UTCDateTime


class UnitKind(StrEnum):
    TOWN = "town"                # 镇/街道
    DEPARTMENT = "department"    # 区直部门
    COMPANY = "company"          # 专业公司 (water, power, gas …)
    COMMUNITY = "community"      # 社区/村
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"town": "镇/街道", "department": "区直部门", "company": "专业公司",
                "community": "社区", "other": "其他"}[self.value]


class Role(StrEnum):
    OPERATOR = "operator"            # 话务员
    MAINTAINER = "maintainer"        # 单位知识员
    UNIT_REVIEWER = "unit_reviewer"  # 单位审核人
    OFFICE_ADMIN = "office_admin"    # 热线办
    SCORER = "scorer"                # the scoring engine, read-only

    @property
    def belongs_to_unit(self) -> bool:
        return self in (Role.MAINTAINER, Role.UNIT_REVIEWER)


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The unit's liaison (联络人) for knowledge matters: whom the office calls about overdue fixes.
    liaison_name: Mapped[str | None] = mapped_column(String(100))
    liaison_phone: Mapped[str | None] = mapped_column(String(40))

    parent: Mapped["Unit | None"] = relationship(remote_side=[id])

    __table_args__ = (
        CheckConstraint("kind IN ('town','department','company','community','other')", name="valid_kind"),
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Log-in name for the console; machine users (the scoring engine) have none and use tokens only.
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    # argon2id hash (PHC string); None: this user cannot log in with a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[Unit | None] = relationship()

    __table_args__ = (
        CheckConstraint(
            "role IN ('operator','maintainer','unit_reviewer','office_admin','scorer')", name="valid_role"),
        # 谁提供谁负责: those who write and review knowledge always act for one unit.
        CheckConstraint(
            "role NOT IN ('maintainer','unit_reviewer') OR unit_id IS NOT NULL", name="unit_roles_have_unit"),
    )


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # First characters of the token, so a person can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # None: never expires (tokens issued before expiry existed).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class CredentialEpoch(Base):
    """One counter, raised whenever a credential stops being good (a token revoked, a user deactivated):
    each process checks it at most once a second and forgets the tokens it remembered when it moved."""

    __tablename__ = "credential_epoch"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class LoginSession(Base):
    """A console log-in. Kept in the database so that ending it (log-out, deactivation, a password
    reset) takes effect on every worker and host at the next request."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # SHA-256 of the session id held in the browser's cookie; the id itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    address: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """One password log-in attempt: the record that failed attempts are throttled by, per account and
    per address, across every worker and host."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    succeeded: Mapped[bool] = mapped_column(default=False)
