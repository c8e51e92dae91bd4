"""Demo set-up of financing (融资对接): the people a demand meets on its way, so the whole flow can be tried.

- a customer manager (客户经理) at one outlet of each demo bank — `mgr_bank` at an outlet under the branch of
  `bank_officer`, `mgr_bank2` at an outlet of `bank2_risk`'s bank — enrolled through the financing service's own
  enrolment (`enroll_managers`, as `jinyu financing enroll-managers` does), so they log in like any manager;
- a financial consultant (金融顾问) `consultant` at the platform operator, assigned to the demo enterprise;
- a chain chief bank (链长主办行) for every industrial chain of the region: the two demo banks in turn, by chain
  code, so a demand naming no bank is routed to a demo bank when its chain is known.

The demo enterprise (`enterprise`) then posts a demand naming the demo bank, `bank_risk` assigns it to
`mgr_bank`'s outlet and manager, the manager accepts, contacts, reviews and decides, and `analyst` reads the
order and the indicators (README, `tests/test_demo.py`).
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.orm import Session

from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.financing import service as financing
from jinyu.financing.schemas import ChainChiefSet, ConsultantAssign
from jinyu.financing.service.managers import initial_password
from jinyu.party import service as party
from jinyu.party.schemas import OrgOut, UserCreate

# (username, password, role, organisation)
DemoUser = tuple[str, str, str, OrgOut]


def _outlet_of(session: Session, bank_id: str, branch_id: str | None) -> OrgOut:
    """The first outlet (by code) of the bank — under the given branch when there is one."""
    outlets = party.list_orgs(session, SYSTEM, OrgKind.BANK_OUTLET.value, None, 500, 0).items
    own = sorted((o for o in outlets if o.tenant_id == bank_id), key=lambda o: o.code)
    under = [o for o in own if branch_id is not None and o.parent_id == branch_id]
    if not (under or own):
        raise RuntimeError(f"bank {bank_id} has no outlet")
    return (under or own)[0]


def _enrol_managers(session: Session, outlets: list[tuple[str, OrgOut]]) -> list[DemoUser]:
    """Through the enrolment use case: it writes the initial passwords to a private file, read back here (they
    go to credentials.json with the other demo users) and removed."""
    lines = ["username,display_name,outlet_code"]
    lines += [f"{name},客户经理 {outlet.code},{outlet.code}" for name, outlet in outlets]
    fd, tmp = tempfile.mkstemp(prefix="managers-", suffix=".csv")
    os.close(fd)
    out = Path(tmp)
    try:
        report = financing.enroll_managers(session, SYSTEM, "\n".join(lines) + "\n", out)
        if report.rejected:
            raise RuntimeError(f"demo managers refused: {report.rejected}")
        with out.open(encoding="utf-8") as fh:
            passwords = {r["username"]: r["initial_password"] for r in csv.DictReader(fh)}
    finally:
        out.unlink(missing_ok=True)
    role = Role.CUSTOMER_MANAGER.value
    return [(name, passwords[name], role, outlet) for name, outlet in outlets]


def _chain_codes(region: Path) -> list[str]:
    members = region / "chain_members.csv"
    if not members.exists():
        return []
    with members.open(encoding="utf-8") as fh:
        return sorted({r["chain_code"] for r in csv.DictReader(fh)})


def prepare_financing(
    session: Session, region: Path, operator: OrgOut, banks: list[OrgOut], branch_id: str, enterprise_id: str
) -> tuple[list[DemoUser], dict[str, str]]:
    """The demo's financing users and the chain chief banks ({chain code: bank code})."""
    outlets = [
        ("mgr_bank", _outlet_of(session, banks[0].id, branch_id)),
        ("mgr_bank2", _outlet_of(session, banks[1].id, None)),
    ]
    users = _enrol_managers(session, outlets)
    password = initial_password()
    consultant = party.create_user(
        session,
        SYSTEM,
        UserCreate(
            username="consultant", display_name="金融顾问 / financial consultant", org_id=operator.id,
            roles=[Role.FINANCIAL_CONSULTANT], password=SecretStr(password),
        ),
    )  # fmt: skip
    financing.assign_consultant(
        session, SYSTEM, ConsultantAssign(consultant_id=consultant.id, enterprise_id=enterprise_id)
    )
    users.append(("consultant", password, Role.FINANCIAL_CONSULTANT.value, operator))
    chiefs: dict[str, str] = {}
    for i, chain in enumerate(_chain_codes(region)):
        bank = banks[i % len(banks)]
        financing.set_chain_chief(session, SYSTEM, ChainChiefSet(chain_code=chain, bank_id=bank.id))
        chiefs[chain] = bank.code
    return users, chiefs
