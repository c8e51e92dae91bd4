from __future__ import annotations

import datetime as dt

import pytest

from jinyu.core.auth import OrgKind, Role
from jinyu.party.rules import (
    RegistrationState as S,
)
from jinyu.party.rules import (
    Throttle,
    after_failure,
    can_transition,
    child_path,
    common_password,
    common_passwords,
    password_problems,
    retry_after_seconds,
    role_allowed,
)


@pytest.mark.parametrize(
    ("current", "target", "ok"),
    [
        (S.PENDING, S.VERIFIED, True),
        (S.PENDING, S.REJECTED, True),
        (S.PENDING, S.SUSPENDED, False),
        (S.VERIFIED, S.SUSPENDED, True),
        (S.VERIFIED, S.PENDING, False),
        (S.SUSPENDED, S.VERIFIED, True),
        (S.REJECTED, S.VERIFIED, False),
    ],
)
def test_registration_transitions(current: S, target: S, ok: bool) -> None:
    assert can_transition(current, target) is ok


@pytest.mark.parametrize(
    ("role", "kind", "ok"),
    [
        (Role.BANK_HQ_RISK, OrgKind.BANK_HEAD_OFFICE, True),
        (Role.BANK_HQ_RISK, OrgKind.BANK_BRANCH, False),
        (Role.BANK_BRANCH_OFFICER, OrgKind.BANK_OUTLET, True),
        (Role.ENTERPRISE_ADMIN, OrgKind.BANK_HEAD_OFFICE, False),
        (Role.REGULATOR_SUPERVISOR, OrgKind.REGULATOR, True),
        (Role.PLATFORM_ADMIN, OrgKind.REGULATOR, False),
    ],
)
def test_roles_fit_organisation_kinds(role: Role, kind: OrgKind, ok: bool) -> None:
    assert role_allowed(role, kind) is ok


def test_paths_nest() -> None:
    root = child_path("/", "a")
    assert child_path(root, "b") == "/a/b/"
    assert child_path(root, "b").startswith(root)


NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


def test_lockout_after_max_failures_within_the_window() -> None:
    window = lockout = 15 * MIN
    state = after_failure(Throttle(), NOW, 3, window, lockout)
    assert state == Throttle(1, NOW, None)
    state = after_failure(state, NOW + MIN, 3, window, lockout)
    assert state == Throttle(2, NOW, None)
    locked = after_failure(state, NOW + 2 * MIN, 3, window, lockout)
    assert locked == Throttle(0, None, NOW + 17 * MIN)
    assert retry_after_seconds(locked.locked_until, NOW + 2 * MIN) == 15 * 60
    assert retry_after_seconds(locked.locked_until, NOW + 17 * MIN - dt.timedelta(milliseconds=1)) == 1
    assert retry_after_seconds(locked.locked_until, NOW + 17 * MIN) is None
    assert retry_after_seconds(None, NOW) is None


def test_failures_older_than_the_window_are_forgotten() -> None:
    state = Throttle(2, NOW, None)
    assert after_failure(state, NOW + 15 * MIN, 3, 15 * MIN, 15 * MIN) == Throttle(1, NOW + 15 * MIN, None)


@pytest.mark.parametrize(
    "password",
    [
        "Password123!",
        "password",
        "PASSWORD2024!!",
        "P@ssw0rd2024",
        "Qwerty123456!",
        "Woaini1314!",
        "Admin@12345678",
        "1qaz2wsx3EDC!",
        "L0ve12345678!",
        "Iloveyou2024#",
    ],
)
def test_common_passwords_are_refused(password: str) -> None:
    assert common_password(password)
    problems = password_problems(password, "alice")
    assert "是常见密码，容易被猜中 / is a common password, easily guessed" in problems


@pytest.mark.parametrize(
    "password", ["Correct-Horse-42x", "Zq8#mT2!vR4p", "Good-Password-42", "Tiger-Lily-88x"]
)
def test_uncommon_passwords_pass(password: str) -> None:
    assert not common_password(password)


def test_the_shipped_list_is_package_data_in_lower_case() -> None:
    words = common_passwords()
    assert len(words) > 400
    assert {"password", "123456", "qwerty", "woaini"} <= words
    assert all(w == w.lower() and w.strip() == w and not w.startswith("#") for w in words)


@pytest.mark.parametrize(
    ("password", "count"),
    [("short1A!", 1), ("alllowercaseletters", 1), ("Good-Password-42", 0), ("alice-Password-42", 1)],
)
def test_password_policy(password: str, count: int) -> None:
    assert len(password_problems(password, "alice")) == count
