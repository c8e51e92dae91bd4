"""Tables the party domain owns: organisations, users, service accounts, real-name registrations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jinyu.core.clock import utcnow
from jinyu.core.db import PSEUDONYM, Base, IdColumn, UTCDateTime, new_id


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("kind_group", "code"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    # Codes are unique within a group: enterprises by USCC, banks by institution code, others by org code.
    kind_group: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    tenant_id: Mapped[str] = mapped_column(IdColumn, index=True)
    path: Mapped[str] = mapped_column(String(400), index=True)
    district_code: Mapped[str | None] = mapped_column(String(6))
    industry_code: Mapped[str | None] = mapped_column(String(8))
    # Pseudonymized legal representative (keyed hash): lets registration match the registry without raw IDs.
    legal_rep_token: Mapped[str | None] = mapped_column(String(40), info=PSEUDONYM)
    attrs: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Carried in every bearer token ("cv") and compared on each request: suspending the user, changing the
    # password or revoking tokens bumps it, and every token issued before stops working at once.
    credential_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceAccount(Base):
    """A system (hospital HIS, bank core system) calling with an API key: `<prefix>.<secret>`."""

    __tablename__ = "service_accounts"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    key_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    key_issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set when the key is revoked (no key works until a rotation issues a new one).
    key_revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(Base):
    """Failed logins per key — a username, known or not, or a client address — in the current window, and
    the lock they caused. Keys are SHA-256 digests ("user:<name>", "addr:<ip>"): names typed at the login form
    (sometimes a password in the wrong field) and addresses are never stored."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the row stops mattering (its window and lock are over): rows past it are deleted.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class Registration(Base):
    """An enterprise's real-name registration (实名注册) and its state history's latest state."""

    __tablename__ = "enterprise_registrations"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), unique=True)
    legal_rep_token: Mapped[str] = mapped_column(String(40), info=PSEUDONYM)
    legal_rep_masked: Mapped[str] = mapped_column(String(18))
    legal_rep_name_masked: Mapped[str] = mapped_column(String(50))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    submitted_by: Mapped[str] = mapped_column(IdColumn)
    decided_by: Mapped[str | None] = mapped_column(IdColumn)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RegistrationEvent(Base):
    """Every state change of a registration, with its reason (append-only)."""

    __tablename__ = "enterprise_registration_events"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    registration_id: Mapped[str] = mapped_column(ForeignKey("enterprise_registrations.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    actor_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
