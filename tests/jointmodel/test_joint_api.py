"""The platform's joint-job register over HTTP (SQLite and PostgreSQL): the regulator registers the job its party
signed, the bank accepts with its party's signed acceptance and files its signed report, which registers the
model version; a bank sees only its own jobs (another bank's answer 404); every step is audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.core.auth import OrgKind, Role
from jinyu.jointmodel import report
from jinyu.jointmodel.party import PartyDir
from tests.fixtures.auth import login, make_org, make_user

from .conftest import Parties

JOBS = "/api/v1/joint/jobs"
SNAPSHOT = {"file": "guest.csv", "sha256": "ab" * 32, "rows": 1200, "quarantined": 0}
METRICS = {"auc": 0.71, "ks": 0.36, "guest_alone_auc": 0.63}


@pytest.fixture
def who(client: TestClient, session: Session) -> dict[str, Any]:
    regulator = make_org(session, OrgKind.REGULATOR)
    bank, other = make_org(session, OrgKind.BANK_HEAD_OFFICE), make_org(session, OrgKind.BANK_HEAD_OFFICE)
    users = {
        "analyst": make_user(session, regulator, Role.REGULATOR_ANALYST),
        "supervisor": make_user(session, regulator, Role.REGULATOR_SUPERVISOR),
        "bank": make_user(session, bank, Role.BANK_HQ_RISK),
        "other": make_user(session, other, Role.BANK_HQ_RISK),
        "branch": make_user(
            session, make_org(session, OrgKind.BANK_BRANCH, parent=bank), Role.BANK_BRANCH_OFFICER
        ),
    }
    session.commit()
    return (
        {name: login(client, u.username) for name, u in users.items()}
        | {"bank_org": bank.id}
        | {f"{name}_name": u.username for name, u in users.items()}
    )


def _declare(client: TestClient, who: dict[str, Any], parties: Parties, job_id: str = "j1") -> dict[str, Any]:
    parties.job(job_id)
    document = json.loads((parties.root / f"{job_id}.json").read_text())
    resp = client.post(
        JOBS, headers=who["analyst"], json={"guest_org_id": who["bank_org"], "document": document}
    )
    assert resp.status_code == 201, resp.text
    return document


def _acceptance(parties: Parties, job_id: str = "j1", directory: Path | None = None) -> dict[str, Any]:
    party = PartyDir(directory or parties.bank)
    acceptance = json.loads((party.job_dir(job_id) / "acceptance.json").read_text())
    return {"acceptance": acceptance, "public_key": party.public_key}


def _accept_both(client: TestClient, who: dict[str, Any], parties: Parties, job_id: str = "j1") -> None:
    resp = client.post(f"{JOBS}/{job_id}/acceptance", headers=who["bank"], json=_acceptance(parties, job_id))
    assert resp.status_code == 200, resp.text
    hub = _acceptance(parties, job_id, parties.hub)
    resp = client.post(f"{JOBS}/{job_id}/host-acceptance", headers=who["supervisor"], json=hub)
    assert resp.status_code == 200, resp.text


def _finish(parties: Parties, job_id: str = "j1", version: int = 1) -> dict[str, Any]:
    """The bank's own state after a run (written here: the protocol itself is tested in test_joint_run)."""
    bank = PartyDir(parties.bank)
    bank.save_state(job_id, status="done", epoch=3, metrics=METRICS, model="sme-risk", version=version)
    entry = {"model": "sme-risk", "version": version, "job_id": job_id, "data_snapshot": SNAPSHOT}
    (bank.path / "registry.json").write_text(json.dumps([entry]))
    return report.make(bank, job_id)


def test_a_job_goes_from_declared_to_a_registered_model(
    client: TestClient, who: dict[str, Any], parties: Parties
) -> None:
    document = _declare(client, who, parties)
    job = client.get(f"{JOBS}/j1", headers=who["bank"]).json()
    assert (job["status"], job["spec"], job["model"]) == ("declared", document["spec"], None)

    assert (
        client.post(f"{JOBS}/j1/acceptance", headers=who["analyst"], json=_acceptance(parties)).status_code
        == 403
    )
    resp = client.post(f"{JOBS}/j1/acceptance", headers=who["bank"], json=_acceptance(parties))
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "declared" and resp.json()["accepted_by"]  # the hub has not accepted yet
    resp = client.post(f"{JOBS}/j1/report", headers=who["bank"], json=_finish(parties))
    assert resp.status_code == 409  # not every party has accepted: no run may be reported
    hub = _acceptance(parties, directory=parties.hub)
    assert client.post(f"{JOBS}/j1/host-acceptance", headers=who["bank"], json=hub).status_code == 403
    # declaring and accepting for the hub are separate duties: the declaring analyst lacks joint.host_accept
    resp = client.post(f"{JOBS}/j1/host-acceptance", headers=who["analyst"], json=hub)
    assert resp.status_code == 403 and "joint.host_accept" in resp.json()["detail"]
    resp = client.post(f"{JOBS}/j1/host-acceptance", headers=who["supervisor"], json=hub)
    assert resp.status_code == 200, resp.text
    assert (resp.json()["status"], resp.json()["declared_by"], resp.json()["host_accepted_by"]) == (
        "accepted",
        who["analyst_name"],
        who["supervisor_name"],
    )

    resp = client.post(f"{JOBS}/j1/report", headers=who["bank"], json=_finish(parties))
    assert resp.status_code == 200, resp.text
    model = resp.json()["model"]
    assert (resp.json()["status"], model["model_name"], model["version"]) == ("done", "sme-risk", 1)
    assert (model["data_snapshot"], model["metrics"]) == (SNAPSHOT, METRICS)
    again = client.post(
        f"{JOBS}/j1/report", headers=who["bank"], json=report.make(PartyDir(parties.bank), "j1")
    )
    assert again.status_code == 200 and again.json()["model"]["registered_at"] == model["registered_at"]

    models = client.get("/api/v1/joint/models", headers=who["analyst"]).json()
    assert [(m["model_name"], m["version"], m["job_id"]) for m in models["items"]] == [("sme-risk", 1, "j1")]
    assert models["next_cursor"] is None
    entries = client.get(
        "/api/v1/audit/entries", headers=who["analyst"], params={"subject_type": "joint_job"}
    )
    actions = [e["action"] for e in entries.json()["items"]]
    for action in ("joint.job.declare", "joint.job.accept", "joint.job.report", "joint.job.read"):
        assert action in actions
    accepts = [e for e in entries.json()["items"] if e["action"] == "joint.job.accept"]
    assert sorted((e["detail"]["role"], e["detail"]["status"]) for e in accepts) == [
        ("guest", "declared"),
        ("host", "accepted"),
    ]
    host = next(e for e in accepts if e["detail"]["role"] == "host")  # both duties' holders on one entry
    assert (host["detail"]["declared_by"], host["actor_name"]) == (
        who["analyst_name"],
        who["supervisor_name"],
    )


def test_who_declared_a_job_may_not_also_accept_it_for_the_hub(
    client: TestClient, session: Session, who: dict[str, Any], parties: Parties
) -> None:
    """A supervisor holds both duties' permissions; on one job they stay two people's (refusal audited)."""
    parties.job("j1")
    document = json.loads((parties.root / "j1.json").read_text())
    resp = client.post(
        JOBS, headers=who["supervisor"], json={"guest_org_id": who["bank_org"], "document": document}
    )
    assert resp.status_code == 201, resp.text
    hub = _acceptance(parties, directory=parties.hub)
    resp = client.post(f"{JOBS}/j1/host-acceptance", headers=who["supervisor"], json=hub)
    assert resp.status_code == 403 and "may not also file the hub's acceptance" in resp.json()["detail"]
    assert client.get(f"{JOBS}/j1", headers=who["analyst"]).json()["host_accepted_by"] is None
    refused = client.get(
        "/api/v1/audit/entries", headers=who["analyst"], params={"action": "http.post", "outcome": "denied"}
    ).json()["items"]
    assert [(e["actor_name"], e["subject_ids"]) for e in refused] == [
        (who["supervisor_name"], ["/api/v1/joint/jobs/j1/host-acceptance"])
    ]

    second = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_SUPERVISOR)
    session.commit()
    resp = client.post(f"{JOBS}/j1/host-acceptance", headers=login(client, second.username), json=hub)
    assert resp.status_code == 200, resp.text
    assert resp.json()["host_accepted_by"] == second.username


def test_a_bank_sees_only_its_own_jobs(client: TestClient, who: dict[str, Any], parties: Parties) -> None:
    _declare(client, who, parties)
    assert [j["job_id"] for j in client.get(JOBS, headers=who["bank"]).json()["items"]] == ["j1"]
    assert client.get(JOBS, headers=who["other"]).json()["items"] == []
    assert client.get(f"{JOBS}/j1", headers=who["other"]).status_code == 404
    assert client.get(f"{JOBS}/nope", headers=who["bank"]).status_code == 404
    resp = client.post(f"{JOBS}/j1/acceptance", headers=who["other"], json=_acceptance(parties))
    assert resp.status_code == 404
    assert client.get(JOBS, headers=who["branch"]).status_code == 403
    empty = {"guest_org_id": who["bank_org"], "document": {}}
    assert client.post(JOBS, headers=who["bank"], json=empty).status_code == 403


def test_forged_or_mismatched_documents_are_field_errors(
    client: TestClient, who: dict[str, Any], parties: Parties
) -> None:
    document = _declare(client, who, parties)
    again = client.post(
        JOBS, headers=who["analyst"], json={"guest_org_id": who["bank_org"], "document": document}
    )
    assert again.status_code == 409
    forged = {**document, "spec": {**document["spec"], "job_id": "j2", "epochs": 50}}
    resp = client.post(
        JOBS, headers=who["analyst"], json={"guest_org_id": who["bank_org"], "document": forged}
    )
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "document.signature"
    resp = client.post(JOBS, headers=who["analyst"], json={"guest_org_id": "nope", "document": document})
    assert resp.status_code == 422

    body = _acceptance(parties)
    body["acceptance"]["spec_sha256"] = "0" * 64  # no longer what the bank signed
    resp = client.post(f"{JOBS}/j1/acceptance", headers=who["bank"], json=body)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "acceptance.signature"
    resp = client.post(f"{JOBS}/j1/report", headers=who["bank"], json=_finish(parties))
    assert resp.status_code == 409  # not accepted yet: no key to check the report against
    resp = client.post(f"{JOBS}/j1/host-acceptance", headers=who["supervisor"], json=_acceptance(parties))
    assert resp.status_code == 422  # the bank's acceptance is no hub's
    assert resp.json()["errors"][0]["field"] == "acceptance.party"

    _accept_both(client, who, parties)
    signed = _finish(parties)
    signed["report"]["metrics"] = {"auc": 0.99}  # altered after signing
    resp = client.post(f"{JOBS}/j1/report", headers=who["bank"], json=signed)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "signature"
    assert client.get(f"{JOBS}/j1", headers=who["analyst"]).json()["model"] is None


def test_a_failed_report_registers_no_model(
    client: TestClient, who: dict[str, Any], parties: Parties
) -> None:
    _declare(client, who, parties)
    _accept_both(client, who, parties)
    bank = PartyDir(parties.bank)
    bank.save_state("j1", status="failed", reason="peer unreachable")
    resp = client.post(f"{JOBS}/j1/report", headers=who["bank"], json=report.make(bank, "j1"))
    assert resp.status_code == 200 and (resp.json()["status"], resp.json()["model"]) == ("failed", None)
    assert client.get("/api/v1/joint/models", headers=who["bank"]).json()["items"] == []


def test_lists_come_in_keyset_pages(client: TestClient, who: dict[str, Any], parties: Parties) -> None:
    for job_id in ("j1", "j2", "j3"):
        _declare(client, who, parties, job_id)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(JOBS, headers=who["analyst"], params=params).json()
        seen += [j["job_id"] for j in page["items"]]
        pages, cursor = pages + 1, page["next_cursor"]
        assert page["limit"] == 2 and len(page["items"]) <= 2
        if cursor is None:
            break
    everything = [j["job_id"] for j in client.get(JOBS, headers=who["analyst"]).json()["items"]]
    assert (pages, seen, sorted(seen)) == (2, everything, ["j1", "j2", "j3"])
    assert client.get(JOBS, headers=who["analyst"], params={"limit": 0}).status_code == 422
    assert client.get(JOBS, headers=who["analyst"], params={"limit": 501}).status_code == 422
    resp = client.get(JOBS, headers=who["analyst"], params={"cursor": "nope"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "cursor"
    # another bank's job is no cursor for this bank: as if it did not exist
    assert client.get(JOBS, headers=who["other"], params={"cursor": "j1"}).status_code == 422

    for version, job_id in enumerate(("j1", "j2", "j3"), start=1):
        _accept_both(client, who, parties, job_id)
        resp = client.post(
            f"{JOBS}/{job_id}/report", headers=who["bank"], json=_finish(parties, job_id, version)
        )
        assert resp.status_code == 200, resp.text
    first = client.get("/api/v1/joint/models", headers=who["bank"], params={"limit": 2}).json()
    assert [m["version"] for m in first["items"]] == [3, 2] and first["next_cursor"] == "j2"
    rest = client.get(
        "/api/v1/joint/models", headers=who["bank"], params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert ([m["version"] for m in rest["items"]], rest["next_cursor"]) == ([1], None)
