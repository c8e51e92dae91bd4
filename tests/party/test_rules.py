from __future__ import annotations

import datetime as dt

import pytest

from jinyu.core.auth import OrgKind, Role
from jinyu.party.rules import (
    RegistrationState as S,
)
from jinyu.party.rules import (
    can_transition,
    child_path,
    lockout_until,
    password_problems,
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


def test_lockout_after_max_failures() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert lockout_until(2, now, 3, dt.timedelta(minutes=15)) is None
    assert lockout_until(3, now, 3, dt.timedelta(minutes=15)) == now + dt.timedelta(minutes=15)


@pytest.mark.parametrize(
    ("password", "count"),
    [("short1A!", 1), ("alllowercaseletters", 1), ("Good-Password-42", 0), ("alice-Password-42", 1)],
)
def test_password_policy(password: str, count: int) -> None:
    assert len(password_problems(password, "alice")) == count
