"""Use cases on the golden lake with a real operational store (SQLite and PostgreSQL): access, results,
evidence privacy, inquiry counting and audit."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.audit.models import AuditEntry
from jinyu.core.auth import OrgKind, Principal, Role
from jinyu.core.errors import PermissionDenied
from jinyu.core.privacy import ACCOUNT_DOMAIN, pseudonymize
from jinyu.risk.models import RiskInquiry
from jinyu.risk.tracing import service
from jinyu.risk.tracing.errors import BankNodeNotFound, LoanNotFound
from jinyu.risk.tracing.schemas import BatchRequest, TraceParams
from tests.fixtures.auth import make_org, principal

from .lake import A, golden_rows, write

KEY = b"k" * 32


@pytest.fixture(scope="module")
def lake_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("service") / "lake"
    write(Lake(root), golden_rows())
    return root


@pytest.fixture(scope="module")
def stores(lake_root: Path) -> Iterator[service.Stores]:
    engine = DuckDBEngine(lake_root)
    yield service.Stores(engine, lake_root, KEY)
    engine.close()


@pytest.fixture
def people(session: Session) -> dict[str, Principal]:
    h1 = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H1", name="一行")
    b1 = make_org(session, OrgKind.BANK_BRANCH, parent=h1, code="B1")
    h2 = make_org(session, OrgKind.BANK_HEAD_OFFICE, code="H2", name="二行")
    b2 = make_org(session, OrgKind.BANK_BRANCH, parent=h2, code="B2")
    regulator = make_org(session, OrgKind.REGULATOR)
    return {
        "hq": principal(session, h1, Role.BANK_HQ_RISK),
        "branch": principal(session, b1, Role.BANK_BRANCH_OFFICER),
        "other_hq": principal(session, h2, Role.BANK_HQ_RISK),
        "other_branch": principal(session, b2, Role.BANK_BRANCH_OFFICER),
        "regulator": principal(session, regulator, Role.REGULATOR_SUPERVISOR),
    }


def test_return_flow_result(session: Session, stores: service.Stores, people: dict[str, Principal]) -> None:
    result = service.return_flow(session, people["hq"], stores, "L1", TraceParams())
    assert (result.verdict, result.returned_amount, result.returned_share) == (
        "risky",
        Decimal("295000.00"),
        Decimal("0.2950"),
    )
    assert (result.first_return_hops, result.days_to_first_return) == (1, Decimal("0.0"))
    assert {x.kind: x.amount for x in result.by_relation} == {
        "legal_rep": Decimal("275000.00"),
        "same_legal_rep": Decimal("20000.00"),
    }
    assert {x.hop: x.amount for x in result.by_hop} == {1: Decimal("200000.00"), 2: Decimal("95000.00")}
    assert sum(x.amount for x in result.attribution) == Decimal("1000000.00")
    assert result.basis.policy == "pro_rata" and result.basis.params.max_hops == 3
    assert result.basis.data_version.transfers_last_month == "2024-04"
    assert {r.relation for r in result.related_parties} >= {
        "own",
        "legal_rep",
        "same_legal_rep",
        "shareholder",
    }


def test_evidence_shows_outsiders_only_as_tokens(
    session: Session, stores: service.Stores, people: dict[str, Principal]
) -> None:
    result = service.return_flow(session, people["hq"], stores, "L1", TraceParams())
    via_x = next(p for p in result.evidence if len(p.steps) == 3 and p.steps[1].party == "outside")
    origin, middle, end = via_x.steps
    assert (origin.account, origin.party, origin.relation) == (A["A0"], "borrower", "own")
    assert middle.account == pseudonymize(KEY, A["X"], ACCOUNT_DOMAIN)
    assert (middle.category, middle.owner_name, middle.relation) == ("personal", None, None)
    assert end.party == "related" and end.relation == "legal_rep" and end.account != A["R1"]
    assert via_x.amount == Decimal("75000.00") and via_x.hops == 2
    dumped = result.model_dump_json()
    for outsider in ("X", "S3", "SEC", "DEV", "PAY"):
        assert f'"{A[outsider]}"' not in dumped


def test_misuse_result(session: Session, stores: service.Stores, people: dict[str, Principal]) -> None:
    l1 = service.misuse(session, people["hq"], stores, "L1", TraceParams())
    lines = {x.kind: x for x in l1.by_category}
    assert lines["securities"].amount == Decimal("68181.81") and lines["securities"].risky
    assert lines["real_estate"].amount == Decimal("125000.00") and lines["real_estate"].first_hops == 2
    assert (l1.misused_amount, l1.verdict) == (Decimal("193181.81"), "risky")
    l2 = service.misuse(session, people["branch"], stores, "L2", TraceParams())
    lines = {x.kind: x for x in l2.by_category}
    assert (lines["shell"].amount, lines["other_loan"].amount) == (Decimal("300000.00"), Decimal("200000.00"))
    (shell,) = l2.shells
    assert shell.party == "outside" and shell.account == pseudonymize(KEY, A["SH"], ACCOUNT_DOMAIN)
    assert any("新设企业" in i for i in shell.indicators) and any("无纳税" in i for i in shell.indicators)
    assert l2.purpose.declared_purpose == "equipment" and l2.purpose.first_hop_amount == Decimal("600000.00")
    assert l2.purpose.consistent_amount == Decimal("0.00")


def test_fifo_is_a_parameter(session: Session, stores: service.Stores, people: dict[str, Principal]) -> None:
    result = service.return_flow(session, people["hq"], stores, "L1", TraceParams(policy="fifo"))
    assert result.returned_amount == Decimal("590000.00")
    assert result.basis.policy == "fifo" and "先进先出" in result.basis.policy_text


def test_only_loans_of_your_own_bank_tree(
    session: Session, stores: service.Stores, people: dict[str, Principal]
) -> None:
    for who, loan in (("other_hq", "L1"), ("other_branch", "L2"), ("hq", "L3"), ("hq", "NO-SUCH-LOAN")):
        with pytest.raises(LoanNotFound):
            service.return_flow(session, people[who], stores, loan, TraceParams())
    assert service.misuse(session, people["other_branch"], stores, "L3", TraceParams()).loan.loan_id == "L3"
    with pytest.raises(PermissionDenied):
        service.return_flow(session, people["regulator"], stores, "L1", TraceParams())


def test_every_inquiry_is_counted_and_audited(
    session: Session, stores: service.Stores, people: dict[str, Principal]
) -> None:
    flow = service.return_flow(session, people["hq"], stores, "L1", TraceParams())
    clean = service.return_flow(session, people["hq"], stores, "L2", TraceParams())
    rows = {r.id: r for r in session.scalars(select(RiskInquiry))}
    first, second = rows[flow.inquiry_id], rows[clean.inquiry_id]
    assert (first.kind, first.subject, first.risky, first.risky_amount) == (
        "return_flow",
        "L1",
        True,
        Decimal("295000.00"),
    )
    assert (second.verdict, second.risky, second.risky_amount) == ("clean", False, Decimal("0.00"))
    assert first.tenant_id == people["hq"].tenant_id
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "risk.tracing.return_flow")).all()
    assert {tuple(json.loads(e.subject_ids)) for e in entries} == {("L1",), ("L2",)}
    assert all(
        json.loads(e.detail or "{}")["data_version"] == flow.basis.data_version.fingerprint for e in entries
    )


def test_batch_of_a_bank_and_period(
    session: Session, stores: service.Stores, people: dict[str, Principal]
) -> None:
    request = BatchRequest(from_date=dt.date(2024, 3, 1), to_date=dt.date(2024, 3, 31))
    seen = []
    result = service.run_batch(session, people["hq"], stores, request, lambda *a: seen.append(a))
    rows = {r.loan_id: r for r in result.rows}
    assert set(rows) == {"L1", "L2"} and seen == [(1, 1, 2)]
    assert (rows["L1"].returned_amount, rows["L1"].misused_amount) == (
        Decimal("295000.00"),
        Decimal("193181.81"),
    )
    assert (rows["L2"].return_verdict, rows["L2"].top_misuse, rows["L2"].verdict) == (
        "clean",
        "shell",
        "risky",
    )
    s = result.summary
    assert (s.loans, s.amount, s.risky_loans) == (2, Decimal("1800000.00"), 2)
    assert s.risky_amount == Decimal("295000.00") + Decimal("193181.81") + Decimal("510000.00")
    inquiry = session.get(RiskInquiry, result.inquiry_id)
    assert inquiry is not None and (inquiry.kind, inquiry.subject) == ("batch", result.batch_id)
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "risk.tracing.batch")).one()
    assert sorted(json.loads(audit.subject_ids)) == ["L1", "L2"]


def test_batch_scope(session: Session, stores: service.Stores, people: dict[str, Principal]) -> None:
    march = {"from_date": dt.date(2024, 3, 1), "to_date": dt.date(2024, 3, 31)}
    branch = service.run_batch(session, people["hq"], stores, BatchRequest(bank_code="B1", **march))
    assert [r.loan_id for r in branch.rows] == ["L1", "L2"]
    with pytest.raises(BankNodeNotFound):
        service.run_batch(session, people["hq"], stores, BatchRequest(bank_code="B2", **march))
    other = service.run_batch(
        session, people["other_hq"], stores, BatchRequest(analyses=["return_flow"], **march)
    )
    assert [r.loan_id for r in other.rows] == ["L3"] and other.rows[0].misused_amount is None
    empty = service.run_batch(
        session,
        people["hq"],
        stores,
        BatchRequest(from_date=dt.date(2023, 1, 1), to_date=dt.date(2023, 1, 31)),
    )
    assert empty.summary.loans == 0 and empty.rows == []
