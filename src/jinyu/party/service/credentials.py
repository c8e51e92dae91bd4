"""Suspending and reactivating users and service accounts; revoking bearer tokens; revoking and rotating API
keys; changing passwords. Every change is audited with its reason.

Who may: whoever holds `user.manage`, on the users and service accounts their `readable` scope shows (another
tenant's answers 404). A user may change their own password and revoke their own tokens.

Bearer tokens carry the user's credential version; suspension, a password change and a token revocation bump it,
and every request compares it, so older tokens stop working at the next request, in every process. API keys are
cached per process (identity.API_KEY_CACHE_SECONDS): a change drops this process's entries at once and again
after the commit; other processes notice within that bound.
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.config import Settings
from jinyu.core.auth import Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.core.errors import FieldError, PermissionDenied
from jinyu.core.pagination import Page
from jinyu.party import repository as repo
from jinyu.party.errors import (
    CannotSuspendSelf,
    ServiceAccountNotFound,
    UserNotFound,
    WeakPassword,
    WrongPassword,
)
from jinyu.party.models import ServiceAccount, User
from jinyu.party.rules import password_problems
from jinyu.party.schemas import (
    PasswordChange,
    PasswordSet,
    Revocation,
    ServiceAccountOut,
    Suspension,
    TokenOut,
    UserOut,
)
from jinyu.party.service.identity import (
    forget_api_keys_after_commit,
    hash_api_secret,
    hash_password,
    hasher,
    issue_token,
)


def _managed_user(session: Session, principal: Principal, user_id: str) -> User:
    principal.require(Perm.USER_MANAGE)
    user = repo.get_readable_user(session, principal, user_id)
    if user is None:
        raise UserNotFound(detail=user_id)
    return user


def user_id_for(session: Session, principal: Principal, username: str) -> str:
    """The id of a user the caller may see, by username (404 otherwise)."""
    user = repo.get_user_by_username(session, username)
    if user is None or repo.get_readable_user(session, principal, user.id) is None:
        raise UserNotFound(detail=username)
    return user.id


def _revoke_tokens(user: User) -> None:
    user.credential_version += 1


def set_user_active(session: Session, principal: Principal, user_id: str, data: Suspension) -> UserOut:
    """Suspend (every token stops working at once) or reactivate a user. Setting the state it already has
    changes nothing and audits nothing."""
    user = _managed_user(session, principal, user_id)
    if not data.active and user.id == principal.subject_id:
        raise CannotSuspendSelf(detail=user.username)
    if user.active != data.active:
        user.active = data.active
        if not data.active:
            _revoke_tokens(user)
        session.flush()
        audit.record(
            session,
            principal,
            action="party.user.reactivate" if data.active else "party.user.suspend",
            subject_type="user",
            subject_ids=[user.id],
            detail={"reason": data.reason},
        )
    return UserOut.model_validate(user)


def revoke_user_tokens(session: Session, principal: Principal, user_id: str, data: Revocation) -> UserOut:
    """Every bearer token of the user issued so far stops working; they log in again."""
    user = (
        repo.get_user(session, user_id)
        if user_id == principal.subject_id and not principal.is_service
        else _managed_user(session, principal, user_id)
    )
    if user is None:
        raise UserNotFound(detail=user_id)
    _revoke_tokens(user)
    session.flush()
    audit.record(
        session,
        principal,
        action="party.user.revoke_tokens",
        subject_type="user",
        subject_ids=[user.id],
        detail={"reason": data.reason},
    )
    return UserOut.model_validate(user)


def _check_policy(password: str, username: str, field: str) -> None:
    problems = password_problems(password, username)
    if problems:
        raise WeakPassword(detail="; ".join(problems), fields=[FieldError(field, p) for p in problems])


def change_own_password(
    session: Session, principal: Principal, data: PasswordChange, settings: Settings
) -> TokenOut:
    """The caller's new password; all their tokens are revoked, and a new one is returned."""
    user = None if principal.is_service else repo.get_user(session, principal.subject_id)
    if user is None:
        raise PermissionDenied(detail="仅限用户 / users only")
    if not _matches(user.password_hash, data.current_password.get_secret_value()):
        raise WrongPassword(fields=[FieldError("current_password", "不正确 / is wrong")])
    new = data.new_password.get_secret_value()
    _check_policy(new, user.username, "new_password")
    user.password_hash = hash_password(new)
    _revoke_tokens(user)
    session.flush()
    audit.record(
        session, principal, action="party.user.password_change", subject_type="user", subject_ids=[user.id]
    )
    return issue_token(user, settings, utcnow())


def set_user_password(session: Session, principal: Principal, user_id: str, data: PasswordSet) -> UserOut:
    """An administrator sets a user's password (a reset); all the user's tokens are revoked."""
    user = _managed_user(session, principal, user_id)
    password = data.password.get_secret_value()
    _check_policy(password, user.username, "password")
    user.password_hash = hash_password(password)
    _revoke_tokens(user)
    session.flush()
    audit.record(
        session,
        principal,
        action="party.user.password_reset",
        subject_type="user",
        subject_ids=[user.id],
        detail={"reason": data.reason},
    )
    return UserOut.model_validate(user)


def _matches(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except Exception:  # argon2's mismatch and malformed-hash errors alike: not this password
        return False


def _managed_account(session: Session, principal: Principal, account_id: str) -> ServiceAccount:
    principal.require(Perm.USER_MANAGE)
    account = repo.get_service_account(session, principal, account_id)
    if account is None:
        raise ServiceAccountNotFound(detail=account_id)
    return account


def service_account_out(account: ServiceAccount, api_key: str | None = None) -> ServiceAccountOut:
    out = ServiceAccountOut.model_validate(account)
    return out.model_copy(update={"api_key": api_key}) if api_key else out


def list_service_accounts(
    session: Session, principal: Principal, limit: int, offset: int
) -> Page[ServiceAccountOut]:
    principal.require(Perm.USER_READ)
    rows, total = repo.list_service_accounts(session, principal, limit, offset)
    audit.record(
        session,
        principal,
        action="party.service_account.list",
        subject_type="service_account",
        subject_ids=[a.id for a in rows],
    )
    return Page[ServiceAccountOut](
        items=[service_account_out(a) for a in rows], total=total, limit=limit, offset=offset
    )


def set_service_account_active(
    session: Session, principal: Principal, account_id: str, data: Suspension
) -> ServiceAccountOut:
    """Suspend (its key stops working) or reactivate a service account."""
    account = _managed_account(session, principal, account_id)
    if account.active != data.active:
        account.active = data.active
        session.flush()
        forget_api_keys_after_commit(session, account.id)
        audit.record(
            session,
            principal,
            action="party.service_account.reactivate" if data.active else "party.service_account.suspend",
            subject_type="service_account",
            subject_ids=[account.id],
            detail={"reason": data.reason},
        )
    return service_account_out(account)


def revoke_api_key(
    session: Session, principal: Principal, account_id: str, data: Revocation
) -> ServiceAccountOut:
    """The account's key stops working; the account keeps no key until a rotation issues one."""
    account = _managed_account(session, principal, account_id)
    if account.key_revoked_at is None:
        account.key_revoked_at = utcnow()
        session.flush()
        forget_api_keys_after_commit(session, account.id)
        audit.record(
            session,
            principal,
            action="party.service_account.revoke_key",
            subject_type="service_account",
            subject_ids=[account.id],
            detail={"reason": data.reason, "key_prefix": account.key_prefix},
        )
    return service_account_out(account)


def new_api_key() -> tuple[str, str]:
    """A key's public prefix and its 256-bit secret.

    The prefix starts with letters: twelve random hex digits are all decimal digits about once in 280 keys, and
    the audit trail refuses to record a run of 11–19 digits (it looks like a card or ID number), so such a
    key's creation or rotation could not be audited and was refused."""
    return "jy" + secrets.token_hex(6), secrets.token_urlsafe(32)


def rotate_api_key(
    session: Session, principal: Principal, account_id: str, data: Revocation
) -> ServiceAccountOut:
    """A new key for the account, returned once; the old key stops working at once."""
    account = _managed_account(session, principal, account_id)
    old_prefix = account.key_prefix
    prefix, secret = new_api_key()
    account.key_prefix, account.key_hash = prefix, hash_api_secret(secret)
    account.key_issued_at, account.key_revoked_at = utcnow(), None
    session.flush()
    forget_api_keys_after_commit(session, account.id)
    audit.record(
        session,
        principal,
        action="party.service_account.rotate_key",
        subject_type="service_account",
        subject_ids=[account.id],
        detail={"reason": data.reason, "old_key_prefix": old_prefix, "key_prefix": prefix},
    )
    return service_account_out(account, f"{prefix}.{secret}")
