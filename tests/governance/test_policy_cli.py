"""`jinyu policy approve|approvals` against a throwaway SQLite store configured through JINYU_* variables."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.consent import service as consent
from jinyu.consent.rules import Purpose, Scope
from jinyu.consent.schemas import GrantCreate
from jinyu.core import db, runtime
from jinyu.core.auth import OrgKind, Role
from jinyu.core.clock import utcnow
from jinyu.models import metadata
from tests.fixtures.auth import PASSWORD, make_org, make_user, principal

runner = CliRunner()
LOGIN = PASSWORD + "\n"


@pytest.fixture
def grant_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = runtime.engine_for(url)
    metadata.create_all(engine)
    factory: sessionmaker[Session] = db.make_sessionmaker(engine)
    with db.transaction(factory) as s:
        ent = make_org(s, OrgKind.ENTERPRISE)
        bank = make_org(s, OrgKind.BANK_HEAD_OFFICE)
        regulator = make_org(s, OrgKind.REGULATOR)
        data = GrantCreate(
            grantee_org_id=bank.id,
            scopes=[Scope.TAX],
            purpose=Purpose.CREDIT_ASSESSMENT,
            valid_until=utcnow() + dt.timedelta(days=120),
        )
        made = consent.grant(s, principal(s, ent, Role.ENTERPRISE_ADMIN), data)
        make_user(s, regulator, Role.REGULATOR_SUPERVISOR, username="cli_supervisor")
        make_user(s, regulator, Role.REGULATOR_ANALYST, username="cli_analyst")
        make_user(s, bank, Role.BANK_HQ_RISK, username="cli_banker")
    yield made.id
    engine.dispose()
    get_settings.cache_clear()


def _as(user: str) -> list[str]:
    return ["--as-user", user, "--password-stdin"]


def test_a_supervisor_approves_and_the_bank_lists_it(grant_id: str) -> None:
    approve = [
        "policy",
        "approve",
        grant_id,
        "--level",
        "5",
        "--reason",
        "贷前审查需纳税明细",
        "--days",
        "30",
    ]
    made = runner.invoke(app, [*approve, *_as("cli_supervisor"), "--json"], input=LOGIN)
    assert made.exit_code == 0, made.output
    approval = json.loads(made.stdout)
    assert (approval["level"], approval["in_force"], approval["grant_id"]) == (5, True, grant_id)
    listed = runner.invoke(app, ["policy", "approvals", grant_id, *_as("cli_banker"), "--json"], input=LOGIN)
    assert listed.exit_code == 0, listed.output
    assert [a["id"] for a in json.loads(listed.stdout)] == [approval["id"]]


def test_refusals_are_readable_and_exit_non_zero(grant_id: str) -> None:
    approve = ["policy", "approve", grant_id, "--reason", "贷前审查需纳税明细"]
    analyst = runner.invoke(app, [*approve, *_as("cli_analyst")], input=LOGIN)
    assert analyst.exit_code == 1 and "policy.approve" in analyst.output
    too_long = runner.invoke(app, [*approve, "--days", "91", *_as("cli_supervisor")], input=LOGIN)
    assert too_long.exit_code == 1 and "valid_until" in too_long.output and "90" in too_long.output


def test_a_supervisor_revokes_an_approval_early(grant_id: str) -> None:
    approve = [
        "policy",
        "approve",
        grant_id,
        "--reason",
        "贷前审查需纳税明细",
        *_as("cli_supervisor"),
        "--json",
    ]
    approval_id = json.loads(runner.invoke(app, approve, input=LOGIN).stdout)["id"]
    revoke = ["policy", "revoke-approval", grant_id, approval_id, "--reason", "贷款已结清"]
    refused = runner.invoke(app, [*revoke, *_as("cli_banker")], input=LOGIN)
    assert refused.exit_code == 1 and "policy.approve" in refused.output
    done = runner.invoke(app, [*revoke, *_as("cli_supervisor"), "--json"], input=LOGIN)
    assert done.exit_code == 0, done.output
    out = json.loads(done.stdout)
    assert (out["id"], out["in_force"], out["revoke_reason"]) == (approval_id, False, "贷款已结清")
    again = runner.invoke(app, [*revoke, *_as("cli_supervisor")], input=LOGIN)
    assert again.exit_code == 1 and "already revoked" in again.output


def test_extract_writes_a_csv_and_reports_what_it_left_out(grant_id: str, tmp_path: Path) -> None:
    """`jinyu policy extract`: the analyst's CSV holds pseudonyms and years only; a bank is refused (exit 1)."""
    from jinyu.analytics import Lake
    from jinyu.governance.contracts import CONTRACTS
    from tests.governance.test_extracts import _insured

    contract = CONTRACTS["claim_insured"]
    Lake(get_settings().lake_dir).append(
        "claim_insured", _insured(), "L1", partition_by=contract.partition_by, sort_by=contract.sort_by
    )
    out = tmp_path / "extract.csv"
    args = [
        "policy",
        "extract",
        "claim_insured",
        "--columns",
        "person_id,enrolled_on",
        "--reason",
        "参保研究",
    ]
    result = runner.invoke(app, [*args, "--out", str(out), *_as("cli_analyst"), "--json"], input=LOGIN)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["disclosure"]["suppressed"] == 5 and "rows" not in summary
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "person_id,enrolled_on" and len(lines) == 6
    assert all(line.startswith("px_") and line.endswith(",2023") for line in lines[1:])
    refused = runner.invoke(app, [*args, *_as("cli_banker")], input=LOGIN)
    assert refused.exit_code == 1 and "governance.read_all" in refused.output, refused.output
