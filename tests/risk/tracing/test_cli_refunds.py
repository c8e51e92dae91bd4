"""`jinyu risk return-flow` prints the refunds in its human-readable output, not only with --json.

The lake is test_refunds.py's: a 1,000,000 loan pays four suppliers; S1 reverses its 300,000 in full (channel
reversal, T2 refunds T1) and S3 sends back 99,500 of 100,000 (memo 退款, T6 refunds T5). FIFO: refunds
300,000.00 (30.00% of the loan) and 99,500.00 (9.95%), 399,500.00 in all; return flow 249,000.00 (S2's unmarked
200,000 and S4's 49,000, 2% short).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jinyu.analytics import Lake
from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.core import cli_kit, db, runtime
from jinyu.core.auth import OrgKind, Role
from jinyu.models import metadata
from tests.fixtures.auth import PASSWORD, make_org, make_user

from .lake import write
from .test_refunds import _rows

runner = CliRunner()


@pytest.fixture
def refund_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    # rich folds table cells at 80 columns; the console took its width when it was created
    monkeypatch.setattr(cli_kit.console, "_width", 200)
    get_settings.cache_clear()
    engine = runtime.engine_for(url)
    metadata.create_all(engine)
    with db.transaction(db.make_sessionmaker(engine)) as s:
        make_user(s, make_org(s, OrgKind.BANK_HEAD_OFFICE, code="H1"), Role.BANK_HQ_RISK, username="hq_risk")
    write(Lake(tmp_path / "lake"), _rows())
    yield
    engine.dispose()
    get_settings.cache_clear()


def _run(*args: str) -> tuple[int, str]:
    command = ["risk", "return-flow", "LR", "--as-user", "hq_risk", "--password-stdin", "--policy", "fifo"]
    result = runner.invoke(app, [*command, *args], input=f"{PASSWORD}\n")
    return result.exit_code, result.output


def test_refund_lines_in_the_human_readable_output(refund_store: None) -> None:
    code, out = _run()
    assert code == 0, out
    assert "refunds, not return flow: 399500.00" in out
    lines = [line for line in out.splitlines() if "T2" in line or "T6" in line]
    assert len(lines) == 2, out
    s1, s3 = lines
    assert "300000.00" in s1 and "30.00%" in s1 and "T1" in s1 and "refund v1" in s1
    assert "99500.00" in s3 and "9.95%" in s3 and "T5" in s3
    assert "8001 (borrower)" in s1  # the borrower's own account is shown by number
    # suppliers are outside the related set: shown as tokens, never by account number
    assert all(a not in out for a in ("8101", "8103")), out
    assert "回流 returned 249000.00" in out


def test_json_and_text_agree(refund_store: None) -> None:
    code, out = _run("--json")
    assert code == 0, out
    body = json.loads(out)
    assert body["refunded_amount"] == "399500.00"
    assert [(r["amount"], r["reversal_txn_ids"]) for r in body["refunds"]] == [
        ("300000.00", ["T2"]),
        ("99500.00", ["T6"]),
    ]
