"""Statement verification as a use case, on SQLite and PostgreSQL, against a tiny lake."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.analytics import DuckDBEngine
from jinyu.audit.models import AuditEntry
from jinyu.consent import service as consent
from jinyu.consent.rules import Purpose, Scope
from jinyu.consent.schemas import GrantCreate
from jinyu.core.auth import OrgKind, Principal, Role
from jinyu.core.clock import utcnow
from jinyu.core.errors import JinyuError, PermissionDenied
from jinyu.core.privacy import ACCOUNT_DOMAIN, pseudonymize
from jinyu.party.schemas import OrgOut
from jinyu.risk.models import RiskInquiry
from jinyu.risk.statements import service
from jinyu.risk.statements.errors import PeriodNotCovered, StatementAccountNotFound, StatementMalformed
from jinyu.risk.statements.parsing import StatementFormat
from jinyu.risk.statements.schemas import VerificationResult
from jinyu.synth.statements import Line, Presented, render_camt053
from tests.fixtures.auth import make_org, principal

from .world import GENUINE, OPENING, PERSON_ACCOUNT, A, B, build_lake, csv_statement

KEY = b"k" * 32


@dataclass
class World:
    session: Session
    engine: DuckDBEngine
    enterprise: OrgOut
    bank: OrgOut
    officer: Principal  # a branch officer of the bank the enterprise authorized
    stranger: Principal  # another bank's risk officer

    def verify(
        self, data: bytes, who: Principal | None = None, fmt: StatementFormat | None = None
    ) -> VerificationResult:
        return service.verify_statement(self.session, who or self.officer, self.engine, KEY, data, fmt)


def _grant(session: Session, ent: OrgOut, bank: OrgOut, scope: Scope, purpose: Purpose) -> None:
    admin = principal(session, ent, Role.ENTERPRISE_ADMIN)
    until = utcnow() + dt.timedelta(days=30)
    consent.grant(
        session,
        admin,
        GrantCreate(grantee_org_id=bank.id, scopes=[scope], purpose=purpose, valid_until=until),
    )


@pytest.fixture
def world(session: Session, tmp_path: Path) -> Iterator[World]:
    ent = make_org(session, OrgKind.ENTERPRISE, name="重庆甲科技有限公司")
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    branch = make_org(session, OrgKind.BANK_BRANCH, parent=bank)
    other = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    _grant(session, ent, bank, Scope.STATEMENTS, Purpose.STATEMENT_VERIFICATION)
    _grant(session, ent, other, Scope.STATEMENTS, Purpose.CREDIT_ASSESSMENT)  # the wrong purpose
    build_lake(tmp_path / "lake", ent.code)
    engine = DuckDBEngine(tmp_path / "lake")
    officer = principal(session, branch, Role.BANK_BRANCH_OFFICER)
    yield World(session, engine, ent, bank, officer, principal(session, other, Role.BANK_HQ_RISK))
    engine.close()


def _inquiries(session: Session) -> list[RiskInquiry]:
    return list(session.scalars(select(RiskInquiry).order_by(RiskInquiry.at)))


def test_a_genuine_statement_is_genuine_counted_and_audited(world: World) -> None:
    result = world.verify(csv_statement(GENUINE))
    assert (result.verdict, result.verdict_label) == ("genuine", "真实 / genuine")
    assert result.counts.matched == {
        "exact_reference": 2,
        "exact_key": 2,
        "tolerant": 1,
        "netted": 1,
        "altered": 0,
    }
    assert (result.counts.statement_lines, result.counts.ledger_lines) == (
        6,
        7,
    )  # the payroll batch is 2 transfers
    assert (result.counts.fabricated, result.counts.hidden, result.counts.balance_breaks) == (0, 0, 0)
    assert result.rates.match_rate_amount == result.rates.ledger_coverage_amount == Decimal("1.0000")
    assert result.balances.opening_plus_ledger == result.balances.closing == OPENING + Decimal("-4899.50")
    assert (result.enterprise_name, result.account, result.name_matcher) == (
        "重庆甲科技有限公司",
        "110***********0001",
        "difflib",
    )
    assert result.thresholds["version"] and result.netting_complete
    token = pseudonymize(KEY, A, ACCOUNT_DOMAIN)
    [inquiry] = _inquiries(world.session)
    assert (inquiry.id, inquiry.kind, inquiry.subject, inquiry.verdict, inquiry.risky) == (
        result.inquiry_id, "statement", token, "genuine", False,
    )  # fmt: skip
    assert inquiry.tenant_id == world.bank.id
    entry = world.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "risk.statement.verify")
    ).one()
    assert (json.loads(entry.subject_ids), entry.purpose, entry.outcome) == (
        [token],
        "statement_verification",
        "ok",
    )
    detail = json.loads(entry.detail or "{}")
    assert (detail["basis"], detail["inquiry_id"], detail["verdict"]) == (
        result.basis,
        result.inquiry_id,
        "genuine",
    )
    assert A not in (entry.detail or "") and B not in (entry.detail or "")


def _token(account: str) -> str:
    """The account-space pseudonym, computed here by hand (HMAC-SHA256 of 'account\x1f<number>')."""
    return "pt_" + hmac.new(KEY, f"account\x1f{account}".encode(), hashlib.sha256).hexdigest()[:32]


def test_a_tampered_statement_shows_each_finding_with_counterparties_as_tokens(world: World) -> None:
    rows = list(GENUINE)
    del rows[4]  # the 2,000.00 payment to 乙 (T06) is left off
    rows[1] = (*rows[1][:4], "-350.00", *rows[1][5:])  # 3,500.00 printed as 350.00
    rows.append(("2024-03-25", "10:00:00", "9999000011112222", "虚构公司", "300.00", "", ""))
    result = world.verify(csv_statement(rows, break_at=2))
    assert result.verdict == "fabricated"  # a third of a six-line statement is unconfirmed: below 80%
    assert (result.counts.fabricated, result.counts.hidden, result.counts.altered, result.counts.balance_breaks) == (
        1, 1, 1, 2,
    )  # fmt: skip
    ev = result.evidence
    # Counterparties reach the bank as keyed tokens (data-security policy), with their category when known.
    assert (ev.fabricated[0].counterparty_account, ev.fabricated[0].amount) == (
        _token("9999000011112222"),
        Decimal("300.00"),
    )
    assert ev.fabricated[0].counterparty_category is None  # not an account the hub knows
    assert (ev.hidden[0].txn_id, ev.hidden[0].counterparty_account) == ("T06", _token("110000100000000002"))
    assert ev.hidden[0].counterparty_name == _token("重庆乙贸易有限公司")
    assert ev.hidden[0].counterparty_category == "corporate_settlement"
    dumped = result.model_dump_json()
    # Nothing raw of a counterparty leaves, in any part of the evidence (findings, ledger lines, netted pairs).
    for raw in (
        "重庆乙贸易有限公司",
        "重庆丙服务有限公司",
        "110000100000000002",
        "110000100000000003",
        "9999000011112222",
    ):
        assert raw not in dumped, raw
    assert (ev.altered[0].changes, ev.altered[0].ledger.txn_id, ev.altered[0].ledger.amount) == (
        ["amount"], "T02", Decimal("-3500.00"),
    )  # fmt: skip
    assert [b.source for b in ev.balance_breaks] == ["line 12", "line 13"]
    assert [len(n.ledger) for n in ev.netted] == [2]
    assert result.risky_amount == Decimal("300.00") + Decimal("2000.00") + Decimal("3150.00")
    [inquiry] = _inquiries(world.session)
    assert (inquiry.verdict, inquiry.risky, inquiry.risky_amount) == ("fabricated", True, Decimal("5450.00"))


def test_one_left_off_transfer_is_suspicious(world: World) -> None:
    result = world.verify(csv_statement([r for r in GENUINE if r[5] != "T06"]))
    assert (result.verdict, result.counts.hidden, result.rates.ledger_coverage_count) == (
        "suspicious", 1, Decimal("0.8571"),
    )  # fmt: skip


def test_camt053_statement(world: World) -> None:
    lines = [
        Line(
            dt.date(2024, 3, 1), dt.time(9, 15), B, "重庆乙贸易有限公司", Decimal("12000.00"), "T01", "货款"
        ),
        Line(
            dt.date(2024, 3, 4),
            None,
            "110000100000000003",
            "重庆丙服务有限公司",
            Decimal("-3500.00"),
            "T02",
            "",
        ),
        Line(dt.date(2024, 3, 8), None, "", "", Decimal("-12300.00"), "", "代发工资"),
        Line(dt.date(2024, 3, 15), None, "110000100000000003", "丙", Decimal("800.50"), "T05", ""),
        Line(dt.date(2024, 3, 20), None, B, "乙", Decimal("-2000.00"), "T06", ""),
        Line(dt.date(2024, 3, 31), None, B, "乙", Decimal("100.00"), "T07", ""),
    ]
    stmt = Presented(A, "重庆甲科技有限公司", world.enterprise.code, dt.date(2024, 3, 1), dt.date(2024, 3, 31),
                     OPENING, lines)  # fmt: skip
    result = world.verify(render_camt053(stmt, "M1"))
    assert (result.format, result.verdict, result.counts.matched["netted"]) == ("camt053", "genuine", 1)


@pytest.mark.parametrize(
    ("data", "who", "code", "status"),
    [
        (csv_statement(GENUINE), "stranger", "consent_missing", 403),  # its grant is for credit assessment
        (
            csv_statement(GENUINE, account=PERSON_ACCOUNT),
            "officer",
            "consent_missing",
            403,
        ),  # no enterprise's
        (csv_statement(GENUINE, account="6200000000000000000"), "officer", "account_not_found", 404),
    ],
)
def test_refusals_count_nothing(world: World, data: bytes, who: str, code: str, status: int) -> None:
    with pytest.raises(JinyuError) as caught:
        world.verify(data, getattr(world, who))
    assert (caught.value.code, caught.value.status) == (code, status)
    assert _inquiries(world.session) == []
    if status == 404:
        assert isinstance(caught.value, StatementAccountNotFound)
        assert "6200000000000000000" not in str(caught.value)  # the number is masked in the message


def test_only_bank_roles_verify(world: World) -> None:
    admin = principal(world.session, world.enterprise, Role.ENTERPRISE_ADMIN)
    with pytest.raises(PermissionDenied):
        world.verify(csv_statement(GENUINE), admin)


def test_a_period_the_hub_has_no_data_for(world: World) -> None:
    rows = [("2024-05-02", "", B, "乙", "10.00", "", "")]
    with pytest.raises(PeriodNotCovered) as caught:
        world.verify(csv_statement(rows, period=("2024-04-20", "2024-05-10")))
    assert caught.value.fields[0].field == "period" and "2024-05" in caught.value.fields[0].message


def test_a_currency_other_than_the_accounts(world: World) -> None:
    with pytest.raises(StatementMalformed) as caught:
        world.verify(csv_statement(GENUINE, currency="USD"))
    assert caught.value.fields[0].field == "line 3/currency"
