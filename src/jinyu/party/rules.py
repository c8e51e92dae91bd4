"""Pure rules of parties and identity: registration state machine, lockout, password policy, org paths."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

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


@dataclass(frozen=True)
class Throttle:
    """Failed logins counted for one key (a username, or a client address) in a window."""

    failures: int = 0
    window_start: dt.datetime | None = None
    locked_until: dt.datetime | None = None


def retry_after_seconds(locked_until: dt.datetime | None, now: dt.datetime) -> int | None:
    """Whole seconds until a lock ends (at least 1), or None when the key is not locked."""
    if locked_until is None or locked_until <= now:
        return None
    return max(1, math.ceil((locked_until - now).total_seconds()))


def after_failure(
    state: Throttle, now: dt.datetime, max_failures: int, window: dt.timedelta, lockout: dt.timedelta
) -> Throttle:
    """One more failure. Failures count within `window` of the first; the `max_failures`-th locks the key
    for `lockout` and starts the count again."""
    if state.window_start is None or now >= state.window_start + window:
        failures, start = 1, now
    else:
        failures, start = state.failures + 1, state.window_start
    if failures >= max_failures:
        return Throttle(0, None, now + lockout)
    return Throttle(failures, start, None)


MIN_PASSWORD_LENGTH = 12
# Letters written as digits or symbols ("p@ssw0rd"): each is undone before the common-password check.
_LEET = str.maketrans(
    {"@": "a", "4": "a", "3": "e", "!": "i", "0": "o", "$": "s", "5": "s", "7": "t", "+": "t"}
)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords and stems (package data, lower case)."""
    text = resources.files("jinyu.party").joinpath("data/common_passwords.txt").read_text("utf-8")
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _candidates(password: str) -> set[str]:
    lowered = password.lower()
    stem = lowered.rstrip("".join({c for c in lowered if not c.isalpha()}))  # trailing digits and symbols
    forms = {lowered, lowered.rstrip("!@#$%^&*()_-+=.,?~ "), stem}
    for form in list(forms):
        forms.add(form.translate(_LEET).replace("1", "i"))
        forms.add(form.translate(_LEET).replace("1", "l"))
    return {f for f in forms if f}


def common_password(password: str) -> bool:
    """True when the password, in any case, or its stem once trailing digits and symbols are stripped and
    symbol-for-letter swaps undone, is on the list: "Password123!" → "password"."""
    known = common_passwords()
    return any(form in known for form in _candidates(password))


def password_problems(password: str, username: str) -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
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
    if common_password(password):
        problems.append("是常见密码，容易被猜中 / is a common password, easily guessed")
    return problems
