"""A small region with real version-1 tokens, and the results a rotation must leave unchanged.

The tracing golden lake (tests/risk/tracing/lake.py) names persons by placeholders ("pt_rep_of_borrower");
here every value of a token column becomes the version-1 token of that placeholder, as ingestion would have
made it, so that related-party joins (a legal representative's own accounts, guarantors) run on real tokens.
The statement world (tests/risk/statements/world.py) shares the lake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.analytics.serving import ServingEngine
from jinyu.consent import service as consent
from jinyu.consent.rules import Purpose, Scope
from jinyu.consent.schemas import GrantCreate
from jinyu.core import pseudokeys
from jinyu.core.auth import OrgKind, Principal, Role
from jinyu.core.clock import utcnow
from jinyu.core.privacy import PERSON_DOMAIN, advance, pseudonymize, token_version
from jinyu.core.pseudokeys import Keyring
from jinyu.governance.contracts import CONTRACTS, Protect
from jinyu.party.models import Organisation
from jinyu.party.schemas import OrgOut
from jinyu.risk.statements import service as statements
from jinyu.risk.tracing import service as tracing
from jinyu.risk.tracing.schemas import TraceParams
from tests.fixtures.auth import make_org, principal
from tests.risk.statements.world import GENUINE, build_lake, csv_statement
from tests.risk.tracing.lake import golden_rows, write

KEY1 = b"k" * 32
RAW_REP = "500101198506141238"  # the statement enterprise's legal representative (a valid resident ID)


def tokenized(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for dataset, items in rows.items():
        cols = {c.name: c.token_domain for c in CONTRACTS[dataset].columns if c.protect == Protect.TOKEN}
        out[dataset] = [
            {
                k: pseudonymize(KEY1, v, cols[k]) if k in cols and isinstance(v, str) else v
                for k, v in r.items()
            }
            for r in items
        ]
    return out


@dataclass
class Region:
    lake_root: Path
    keys_dir: Path
    bank: Principal
    enterprise: OrgOut
    serving: ServingEngine

    def ring(self) -> Keyring:
        return pseudokeys.load(self.keys_dir, KEY1)


def build(session: Session, tmp: Path) -> Region:
    keys_dir = tmp / "keys"
    keys_dir.mkdir(mode=0o700)
    lake_root = tmp / "lake"
    write(Lake(lake_root), tokenized(golden_rows()), "G1")
    h1 = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H1")
    ent = make_org(session, OrgKind.ENTERPRISE, name="重庆甲科技有限公司")
    org = session.get(Organisation, ent.id)
    assert org is not None
    org.legal_rep_token = pseudonymize(KEY1, RAW_REP, PERSON_DOMAIN)  # what the registry load would store
    admin = principal(session, ent, Role.ENTERPRISE_ADMIN)
    until = utcnow() + dt.timedelta(days=30)
    grant = GrantCreate(grantee_org_id=h1.id, scopes=[Scope.STATEMENTS], purpose=Purpose.STATEMENT_VERIFICATION,
                        valid_until=until)  # fmt: skip
    consent.grant(session, admin, grant)
    build_lake(lake_root, ent.code, person_id=pseudonymize(KEY1, RAW_REP, PERSON_DOMAIN))
    session.flush()
    return Region(
        lake_root, keys_dir, principal(session, h1, Role.BANK_HQ_RISK), ent, ServingEngine(lake_root)
    )


# -- the results compared before and after ----------------------------------------------------------------------


def results(session: Session, region: Region) -> dict[str, Any]:
    """A return-flow and a misuse trace, a statement verification and two token joins, as plain JSON."""
    ring = region.ring()
    stores = tracing.Stores(region.serving, region.lake_root, ring, serving=region.serving)
    out: dict[str, Any] = {}
    for loan in ("L1", "L4"):
        flow = tracing.return_flow(session, region.bank, stores, loan, TraceParams())
        out[f"return_flow {loan}"] = _plain(flow.model_dump(mode="json"))
    out["misuse L1"] = _plain(
        tracing.misuse(session, region.bank, stores, "L1", TraceParams()).model_dump(mode="json")
    )
    rows = list(GENUINE)
    del rows[4]  # a hidden payment: its counterparty appears as a token
    verified = statements.verify_statement(session, region.bank, region.serving, ring, csv_statement(rows))
    out["statement"] = _plain(verified.model_dump(mode="json"))
    out["joins"] = token_joins(region.lake_root)
    return out


def _plain(body: dict[str, Any]) -> dict[str, Any]:
    body.pop("inquiry_id", None)
    if isinstance(body.get("basis"), dict):  # a fingerprint of file sizes: rewritten files differ
        body["basis"].pop("data_version", None)
        body["basis"].pop("computed_at", None)
    return body


def token_joins(lake_root: Path) -> list[tuple[Any, ...]]:
    """Pairs joined on tokens only: accounts held by a person who represents or holds shares in a company."""

    def ds(name: str) -> str:
        return f"read_parquet('{lake_root}/{name}/**/*.parquet', hive_partitioning=true)"

    sql = f"""
        select a.account_no, e.uscc, 'legal_rep' from {ds("accounts")} a join {ds("enterprises")} e
          on a.owner_type = 'person' and a.owner_id = e.legal_rep_id
        union all
        select a.account_no, s.uscc, 'holder' from {ds("accounts")} a join {ds("shareholders")} s
          on a.owner_type = 'person' and a.owner_id = s.holder_id
        order by 1, 2, 3"""
    with duckdb.connect() as con:
        return [tuple(r) for r in con.sql(sql).fetchall()]


def forward(value: Any, ring: Keyring, target: int) -> Any:
    """`value` with every version-1 token carried to `target` (how a pre-rotation result reads after it)."""
    if isinstance(value, str):
        return advance(ring, value, target) if token_version(value) == 1 else value
    if isinstance(value, dict):
        return {k: forward(v, ring, target) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(forward(v, ring, target) for v in value)
    return value


def tokens_in(value: Any, found: Callable[[str], None]) -> None:
    if isinstance(value, str) and token_version(value) is not None:
        found(value)
    elif isinstance(value, dict):
        for v in value.values():
            tokens_in(v, found)
    elif isinstance(value, list | tuple):
        for v in value:
            tokens_in(v, found)
