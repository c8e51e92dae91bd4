"""Demo set-up of the industrial-chain scenario: some new-display members authorise the demo bank.

The core enterprise and every second other member of the new-display chain (by USCC) grant the demo bank
(bank_risk's head office, so its branches too) the scopes a chain portrait is made of, for credit assessment,
for a year — so `jinyu chain portraits new_display ... --as-user bank_risk` returns only them.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from jinyu.chain.portraits import PORTRAIT_SCOPES
from jinyu.consent import service as consent
from jinyu.consent.rules import Purpose
from jinyu.consent.schemas import GrantCreate
from jinyu.core.auth import Role
from jinyu.core.clock import utcnow
from jinyu.demo_claims import acting
from jinyu.party import service as party


def chain_consents(session: Session, region: Path, bank_id: str) -> int:
    members = region / "chain_members.csv"
    if not members.exists():
        return 0
    with members.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["chain_code"] == "new_display"]
    core = [r["uscc"] for r in rows if r["is_core"] == "true"]
    others = sorted(r["uscc"] for r in rows if r["is_core"] != "true")[::2]
    grant = GrantCreate(
        grantee_org_id=bank_id,
        scopes=list(PORTRAIT_SCOPES),
        purpose=Purpose.CREDIT_ASSESSMENT,
        valid_until=utcnow() + dt.timedelta(days=365),
    )
    count = 0
    for uscc in core + others:
        org = party.find_enterprise(session, uscc)
        if org is not None:
            consent.grant(session, acting(org, Role.ENTERPRISE_ADMIN), grant)
            count += 1
    return count
