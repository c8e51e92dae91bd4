"""Pure rules of parties and identity: registration state machine, lockout, password policy, org paths."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from jinyu.core.auth import ROLE_ORG_KINDS, OrgKind, Role


class RegistrationState(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


# Allowed transitions of an enterprise's real-name registration; every transition carries a reason.
REGISTRATION_TRANSITIONS: dict[RegistrationState, frozenset[RegistrationState]] = {
    RegistrationState.PENDING: frozenset({RegistrationState.VERIFIED, RegistrationState.REJECTED}),
    RegistrationState.VERIFIED: frozenset({RegistrationState.SUSPENDED}),
    RegistrationState.SUSPENDED: frozenset({RegistrationState.VERIFIED}),
    RegistrationState.REJECTED: frozenset({RegistrationState.PENDING}),
}


def can_transition(current: RegistrationState, target: RegistrationState) -> bool:
    return target in REGISTRATION_TRANSITIONS[current]


def role_allowed(role: Role, kind: OrgKind) -> bool:
    return kind in ROLE_ORG_KINDS[role]


def child_path(parent_path: str, org_id: str) -> str:
    """Materialized path: '/root/branch/outlet/'. A prefix match selects a whole subtree."""
    return f"{parent_path}{org_id}/"


def lockout_until(
    failures: int, now: dt.datetime, max_failures: int, lockout: dt.timedelta
) -> dt.datetime | None:
    """After `max_failures` consecutive failures the account is locked for `lockout`."""
    return now + lockout if failures >= max_failures else None


def password_problems(password: str, username: str) -> list[str]:
    problems = []
    if len(password) < 12:
        problems.append("至少12个字符 / at least 12 characters")
    classes = sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if classes < 3:
        problems.append("至少包含大写、小写、数字、符号中的三类 / use 3 of: upper, lower, digit, symbol")
    if username and username.lower() in password.lower():
        problems.append("不能包含用户名 / must not contain the username")
    return problems
