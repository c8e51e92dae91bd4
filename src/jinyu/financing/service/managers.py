"""Enrol customer managers (客户经理) as users with logins: one CSV line `username,display_name,outlet_code`
per manager; each gets the role customer_manager at its outlet and a random initial password, written once
to a file only the operator can read. Bad lines are reported with their reasons, never silently skipped."""

from __future__ import annotations

import csv
import io
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr, ValidationError
from sqlalchemy.orm import Session

from jinyu.core.auth import OrgKind, Principal, Role
from jinyu.core.errors import JinyuError
from jinyu.party import service as party
from jinyu.party.schemas import UserCreate
from jinyu.party.service import lookup

HEADER = ["username", "display_name", "outlet_code"]


@dataclass
class EnrolReport:
    enrolled: int = 0
    existing: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def initial_password() -> str:
    """16 random characters from four classes (meets the password policy; the user changes it on first use)."""
    return f"Jy-{secrets.token_urlsafe(12)}7a"


def enroll_managers(session: Session, principal: Principal, text: str, out: Path) -> EnrolReport:
    rows = list(csv.reader(io.StringIO(text)))
    report = EnrolReport()
    if not rows or [c.strip() for c in rows[0]] != HEADER:
        report.rejected.append((1, f"表头须为 / header must be {','.join(HEADER)}"))
        return report
    issued: list[tuple[str, str]] = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != 3 or not all(c.strip() for c in row):
            report.rejected.append((line, "须有 3 个非空字段 / needs 3 non-empty fields"))
            continue
        username, name, outlet_code = (c.strip() for c in row)
        outlet = lookup.org_by_code(session, OrgKind.BANK_OUTLET.value, outlet_code)
        if outlet is None:
            report.rejected.append((line, f"网点不存在 / no outlet {outlet_code}"))
            continue
        password = initial_password()
        try:
            with session.begin_nested():
                party.create_user(
                    session,
                    principal,
                    UserCreate(
                        username=username, display_name=name, org_id=outlet.id,
                        roles=[Role.CUSTOMER_MANAGER], password=SecretStr(password),
                    ),
                )  # fmt: skip
        except ValidationError as exc:
            report.rejected.append((line, exc.errors()[0]["msg"]))
            continue
        except JinyuError as exc:
            if exc.code == "username_taken":
                report.existing += 1
            else:
                report.rejected.append((line, str(exc)))
            continue
        issued.append((username, password))
        report.enrolled += 1
    _write_private(out, issued)
    return report


def _write_private(out: Path, issued: list[tuple[str, str]]) -> None:
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["username", "initial_password"])
        writer.writerows(issued)
