"""What a new user sees at the console: readable refusals with exit 1, quarantined rows, job show."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from jinyu.cli import app
from jinyu.jointmodel import service
from jinyu.jointmodel.party import PartyDir
from tests.jointmodel.conftest import Parties

runner = CliRunner()


def test_only_the_regulator_declares_and_bad_parameters_name_their_field(parties: Parties) -> None:
    base = [
        "joint",
        "job",
        "create",
        "--job-id",
        "j9",
        "--guest",
        "bank-a",
        "--host",
        "hub",
        "--model-name",
        "sme",
    ]
    refused = runner.invoke(app, [*base, "--dir", str(parties.bank)])
    assert refused.exit_code == 1 and "only the regulator" in refused.output
    bad = runner.invoke(app, [*base, "--dir", str(parties.reg), "--epochs", "0", "--batch-size", "9000"])
    assert bad.exit_code == 1 and "epochs" in bad.output and "batch_size" in bad.output
    made = runner.invoke(
        app, [*base, "--dir", str(parties.reg), "--out", str(parties.root / "j9.json"), "--json"]
    )
    assert made.exit_code == 0 and json.loads(made.output)["job_id"] == "j9"


def test_a_job_signed_by_an_untrusted_regulator_is_not_accepted(parties: Parties, tmp_path: Path) -> None:
    rogue = service.init_party(tmp_path / "rogue", "regulator", "regulator", None, "id", "y")
    assert rogue["public_key"] != PartyDir(parties.reg).public_key
    service.create_job(
        tmp_path / "rogue",
        tmp_path / "rogue.json",
        job_id="j8",
        guest="bank-a",
        host="hub",
        model_name="sme",
        psi="intersection",
        epochs=1,
        learning_rate=0.5,
        l2=0.0,
        batch_size=256,
        valid_share=0.2,
        bins=5,
        seed=1,
    )
    answer = runner.invoke(
        app, ["joint", "job", "accept", "--dir", str(parties.bank), "--job", str(tmp_path / "rogue.json")]
    )
    assert answer.exit_code == 1 and "Signature" in answer.output


def test_bad_rows_are_quarantined_with_reasons_not_dropped(parties: Parties) -> None:
    text = parties.guest_csv.read_text().splitlines()
    header = text[0].split(",")
    broken = text[1].split(",")
    broken[header.index("x3")] = "n/a"
    text[1] = ",".join(broken)
    text.append(text[2])  # a duplicate id
    parties.guest_csv.write_text("\n".join(text) + "\n")
    data = PartyDir(parties.bank).load_data()
    assert len(data.ids) == 1199
    assert data.quarantined == [
        {"line": "2", "reason": "x3: 非数值 / not a number: 'n/a'"},
        {"line": str(len(text)), "reason": f"重复 id / duplicate id {text[2].split(',')[0]}"},
    ]


def test_job_show_reports_state_and_a_verified_audit_chain(parties: Parties) -> None:
    parties.job("j7")
    shown = runner.invoke(
        app, ["joint", "job", "show", "--dir", str(parties.hub), "--job-id", "j7", "--json"]
    )
    assert shown.exit_code == 0
    body = json.loads(shown.output)
    assert body["state"]["status"] == "accepted" and body["audit_events"] == ["job_accepted"]
    (parties.hub / "jobs" / "j7" / "audit.jsonl").write_text('{"seq": 1, "event": "forged"}\n')
    broken = runner.invoke(app, ["joint", "job", "show", "--dir", str(parties.hub), "--job-id", "j7"])
    assert broken.exit_code == 1 and "line 1" in broken.output
    missing = runner.invoke(app, ["joint", "job", "show", "--dir", str(parties.hub), "--job-id", "nope"])
    assert missing.exit_code == 1 and "nope" in missing.output
