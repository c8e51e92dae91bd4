"""`jinyu financing ...` against a throwaway SQLite store: enrolling managers (bad lines reported), SLA dates,
refusal codes, and a demand posted and decided from the command line showing in the indicators."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.core import db, runtime
from jinyu.core.auth import OrgKind, Role
from jinyu.models import metadata
from jinyu.party.schemas import OrgOut
from tests.fixtures.auth import PASSWORD, make_org, make_user

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, OrgOut]]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = runtime.engine_for(url)
    metadata.create_all(engine)
    with db.transaction(db.make_sessionmaker(engine)) as s:
        bank = make_org(s, OrgKind.BANK_HEAD_OFFICE, code="B9")
        branch = make_org(s, OrgKind.BANK_BRANCH, parent=bank, code="B9-01")
        outlet = make_org(s, OrgKind.BANK_OUTLET, parent=branch, code="B9-01-001")
        ent = make_org(s, OrgKind.ENTERPRISE)
        make_user(s, ent, Role.ENTERPRISE_ADMIN, username="ent.wang")
        make_user(s, bank, Role.BANK_HQ_RISK, username="hq.zhao")
    yield {"bank": bank, "outlet": outlet, "ent": ent}
    engine.dispose()
    get_settings.cache_clear()


def test_enroll_managers_reports_bad_lines_and_writes_private_passwords(
    store: dict[str, OrgOut], tmp_path: Path
) -> None:
    src = tmp_path / "managers.csv"
    src.write_text(
        "username,display_name,outlet_code\nmgr.li,李经理,B9-01-001\nmgr.x,某人,NOPE\n"
        "bad line\nmgr.li,again,B9-01-001\n",
        encoding="utf-8",
    )
    out = tmp_path / "passwords.csv"
    result = runner.invoke(app, ["financing", "enroll-managers", str(src), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["enrolled"], report["existing"]) == (1, 1)
    assert [line for line, _ in report["rejected"]] == [3, 4]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = out.read_text().splitlines()
    assert rows[0] == "username,initial_password" and rows[1].startswith("mgr.li,") and len(rows) == 2


def test_sla_and_refusal_codes(store: dict[str, OrgOut]) -> None:
    result = runner.invoke(app, ["financing", "sla", "2026-09-30", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["decision_due"] == "2026-10-20"
    codes = runner.invoke(app, ["financing", "refusal-reasons"])
    assert "R07" in codes.output and "R99" in codes.output
    bad = runner.invoke(app, ["financing", "sla", "2026-02-30"])
    assert bad.exit_code != 0


def test_a_demand_from_the_command_line(store: dict[str, OrgOut]) -> None:
    bank = store["bank"].id
    posted = runner.invoke(
        app,
        ["financing", "demand", "--amount", "500000.00", "--term-months", "6", "--purpose", "采购",
         "--bank", bank, "--as-user", "ent.wang", "--password-stdin", "--json"],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert posted.exit_code == 0, posted.output
    order_id = json.loads(posted.output)["order"]["id"]
    refused = runner.invoke(
        app,
        ["financing", "act", order_id, "reject", "--as-user", "hq.zhao", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert refused.exit_code == 1 and "reason_code" in refused.output
    done = runner.invoke(
        app,
        [
            "financing",
            "act",
            order_id,
            "reject",
            "--reason",
            "R04",
            "--as-user",
            "hq.zhao",
            "--password-stdin",
            "--json",
        ],
        input=PASSWORD + "\n",
    )
    assert done.exit_code == 0, done.output
    table = runner.invoke(app, ["financing", "indicators", "--group-by", "bank", "--json"])
    row = json.loads(table.output)["rows"][0]
    assert (row["key"], row["orders"], row["decided"], row["approved"]) == (bank, 1, 1, 0)


def test_synthetic_orders_put_the_planted_outlets_on_top(store: dict[str, OrgOut]) -> None:
    made = runner.invoke(app, ["financing", "synth-orders", "--orders", "6000", "--load-id", "s1", "--json"])
    assert made.exit_code == 0, made.output
    planted = json.loads(made.output)
    table = runner.invoke(
        app,
        [
            "financing",
            "lake-indicators",
            "--group-by",
            "outlet",
            "--as-of",
            "2026-12-31",
            "--limit",
            "3",
            "--json",
        ],
    )
    assert table.exit_code == 0, table.output
    assert {r["key"] for r in json.loads(table.output)["rows"]} == set(planted["slow_outlets"])


def test_products_from_the_command_line(store: dict[str, OrgOut]) -> None:
    args = ["financing", "products", "add", "--code", "KJD-01", "--name", "科技贷", "--min-amount", "100000",
            "--max-amount", "5000000", "--min-term", "6", "--max-term", "36", "--purpose", "研发",
            "--security", "credit", "--industry", "I65"]  # fmt: skip
    added = runner.invoke(
        app, [*args, "--as-user", "hq.zhao", "--password-stdin", "--json"], input=PASSWORD + "\n"
    )
    assert added.exit_code == 0, added.output
    made = json.loads(added.output)[0]
    assert (made["bank_id"], made["min_amount"], made["industries"]) == (
        store["bank"].id,
        "100000.00",
        ["I65"],
    )
    # The enterprise's user may not register products: a readable refusal and a non-zero exit.
    refused = runner.invoke(app, [*args, "--as-user", "ent.wang", "--password-stdin"], input=PASSWORD + "\n")
    assert refused.exit_code != 0 and refused.output.strip()
    listed = runner.invoke(app, ["financing", "products", "list", "--bank", store["bank"].id, "--json"])
    assert listed.exit_code == 0 and [p["code"] for p in json.loads(listed.output)] == ["KJD-01"]


def test_a_demand_posted_twice_with_one_key_is_one_demand(store: dict[str, OrgOut]) -> None:
    def post(purpose: str) -> Any:
        return runner.invoke(
            app,
            ["financing", "demand", "--amount", "500000", "--term-months", "6", "--purpose", purpose,
             "--bank", store["bank"].id, "--idempotency-key", "cli-1", "--as-user", "ent.wang",
             "--password-stdin", "--json"],
            input=PASSWORD + "\n",
        )  # fmt: skip

    first, again = post("采购"), post("采购")
    assert first.exit_code == 0 and again.exit_code == 0, (first.output, again.output)
    assert json.loads(again.output)["demand"]["id"] == json.loads(first.output)["demand"]["id"]
    clash = post("扩产")
    assert clash.exit_code == 1 and "Idempotency-Key: 该键已用于内容不同的需求" in clash.output
