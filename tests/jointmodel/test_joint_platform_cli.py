"""`jinyu joint job create|accept|run|show` with `--as-user`: the regulator registers its signed job, the bank
files its acceptance, runs the job against a host process and files its signed report, and the platform's record
shows the registered model version with the bank's metrics (a throwaway SQLite store through JINYU_* variables)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.core import db, runtime
from jinyu.core.auth import OrgKind, Role
from jinyu.jointmodel.party import PartyDir
from jinyu.models import metadata
from tests.fixtures.auth import PASSWORD, make_org, make_user

from .conftest import HostProcess, Parties

runner = CliRunner()
LOGIN = PASSWORD + "\n"


@pytest.fixture
def bank_org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = runtime.engine_for(url)
    metadata.create_all(engine)
    factory: sessionmaker[Session] = db.make_sessionmaker(engine)
    with db.transaction(factory) as s:
        regulator, bank = make_org(s, OrgKind.REGULATOR), make_org(s, OrgKind.BANK_HEAD_OFFICE)
        make_user(s, regulator, Role.REGULATOR_ANALYST, username="joint_analyst")
        make_user(s, regulator, Role.REGULATOR_SUPERVISOR, username="joint_supervisor")
        make_user(s, bank, Role.BANK_HQ_RISK, username="joint_banker")
        other = make_org(s, OrgKind.BANK_HEAD_OFFICE)
        make_user(s, other, Role.BANK_HQ_RISK, username="joint_other")
        bank_id = bank.id
    yield bank_id
    engine.dispose()
    get_settings.cache_clear()


def _joint(*args: str, user: str | None = None) -> dict[str, object]:
    login = ["--as-user", user, "--password-stdin"] if user else []
    result = runner.invoke(app, ["joint", *args, *login, "--json"], input=LOGIN if user else None)
    assert result.exit_code == 0, result.output
    loaded: dict[str, object] = json.loads(result.output)
    return loaded


def test_a_job_from_the_console_lands_in_the_platform_register(
    parties: Parties, host: HostProcess, bank_org: str
) -> None:
    job_file = parties.root / "j1.json"
    spec = [
        "--job-id",
        "j1",
        "--guest",
        "bank-a",
        "--host",
        "hub",
        "--model-name",
        "sme-risk",
        "--epochs",
        "2",
    ]
    made = _joint(
        "job", "create", "--dir", str(parties.reg), *spec, "--batch-size", "256", "--seed", "5",
        "--out", str(job_file), "--guest-org", bank_org, user="joint_analyst",
    )  # fmt: skip
    assert made["platform_status"] == "declared"
    accepted = _joint(
        "job", "accept", "--dir", str(parties.bank), "--job", str(job_file), user="joint_banker"
    )
    assert accepted["platform_status"] == "declared"  # the hub has not accepted on the platform yet
    _joint("job", "accept", "--dir", str(parties.hub), "--job", str(job_file))  # the hub: its own dir only
    run = ["job", "run", "--dir", str(parties.bank), "--job-id", "j1", "--host-url", host.url]
    refused = runner.invoke(
        app, ["joint", *run, "--as-user", "joint_banker", "--password-stdin"], input=LOGIN
    )
    assert refused.exit_code == 1 and "hub" in refused.output
    assert PartyDir(parties.bank).state("j1").get("status") != "failed"  # refused before anything was sent
    declarer = runner.invoke(
        app, ["joint", "job", "accept", "--dir", str(parties.hub), "--job", str(job_file), "--as-user",
              "joint_analyst", "--password-stdin"], input=LOGIN,
    )  # fmt: skip
    assert declarer.exit_code == 1 and "joint.host_accept" in declarer.output  # a separate duty
    hub = _joint("job", "accept", "--dir", str(parties.hub), "--job", str(job_file), user="joint_supervisor")
    assert hub["platform_status"] == "accepted"

    ran = _joint(
        "job",
        "run",
        "--dir",
        str(parties.bank),
        "--job-id",
        "j1",
        "--host-url",
        host.url,
        user="joint_banker",
    )
    assert (ran["status"], ran["platform_status"], ran["platform_model"]) == ("done", "done", 1)

    shown = _joint("job", "show", "--job-id", "j1", user="joint_analyst")
    state = PartyDir(parties.bank).state("j1")
    model = shown["model"]
    assert isinstance(model, dict)
    assert (model["model_name"], model["version"], model["metrics"]) == ("sme-risk", 1, state["metrics"])
    assert model["data_snapshot"]["rows"] == 1200

    hidden = runner.invoke(
        app, ["joint", "job", "show", "--job-id", "j1", "--as-user", "joint_other", "--password-stdin"],
        input=LOGIN,
    )  # fmt: skip
    assert hidden.exit_code == 1 and "joint job j1" in hidden.output


def test_registering_needs_the_banks_org(parties: Parties, bank_org: str) -> None:
    result = runner.invoke(
        app,
        ["joint", "job", "create", "--dir", str(parties.reg), "--job-id", "j2", "--guest", "bank-a", "--host",
         "hub", "--model-name", "m", "--as-user", "joint_analyst", "--password-stdin"],
        input=LOGIN,
    )  # fmt: skip
    assert result.exit_code == 1 and "--guest-org" in result.output
