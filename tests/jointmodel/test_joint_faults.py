"""Faults: a host killed mid-epoch (resume at the last whole epoch), a wrong key, a replayed frame, size-only PSI."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from jinyu.jointmodel import guest, service
from jinyu.jointmodel.errors import PartyUnreachable
from jinyu.jointmodel.journal import read_audit, read_capture
from jinyu.jointmodel.party import PartyDir
from jinyu.jointmodel.server import PATH
from tests.jointmodel.conftest import HostProcess, Parties, run_cli, start_host


def test_a_host_killed_mid_epoch_fails_the_job_cleanly_and_it_resumes(
    parties: Parties, host: HostProcess
) -> None:
    parties.job("j2", epochs=3)
    bank = PartyDir(parties.bank)

    def kill_in_second_epoch(epoch: int, batch: int) -> None:
        if epoch == 1 and batch == 1:
            host.kill()

    with pytest.raises(PartyUnreachable):
        guest.run(bank, "j2", host.url, on_batch=kill_in_second_epoch)
    failed = bank.state("j2")
    assert failed["status"] == "failed" and failed["epoch"] == 1 and "不可达" in failed["reason"]
    assert read_audit(parties.bank / "jobs" / "j2" / "audit.jsonl")[-1]["event"] == "job_failed"

    restarted = start_host(parties.hub)
    try:
        done = run_cli(
            "joint",
            "job",
            "run",
            "--dir",
            str(parties.bank),
            "--job-id",
            "j2",
            "--host-url",
            restarted.url,
            "--json",
        )
    finally:
        restarted.kill()
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)
    assert state["status"] == "done" and state["epoch"] == 3
    assert state["epoch_seconds"] and len(state["epoch_seconds"]) == 2  # epochs 2 and 3 only
    starts = [
        e["data"]
        for e in read_audit(parties.hub / "jobs" / "j2" / "audit.jsonl")
        if e["event"] == "training_started"
    ]
    assert starts == [{"from_epoch": 0}, {"from_epoch": 1}]
    assert guest.run(bank, "j2", restarted.url) == bank.state(
        "j2"
    )  # done: answered from its state, host down
    # the resumed model equals an uninterrupted one (same batches, same updates, CKKS noise aside)
    parties.job("j3", epochs=3)
    again = PartyDir(parties.bank)
    node = start_host(parties.hub)
    try:
        clean = guest.run(again, "j3", node.url)
    finally:
        node.kill()
    assert abs(clean["metrics"]["auc"] - state["metrics"]["auc"]) < 1e-3


def test_a_guest_holding_a_wrong_host_key_stops_at_hello(parties: Parties, host: HostProcess) -> None:
    parties.job("j4")
    impostor = service.init_party(parties.root / "other", "hub", "host", parties.host_csv, "id", "y")
    service.trust(parties.bank, "hub", impostor["public_key"])  # the bank now expects another key for "hub"
    done = run_cli(
        "joint", "job", "run", "--dir", str(parties.bank), "--job-id", "j4", "--host-url", host.url
    )
    assert done.returncode == 1
    assert "签名" in done.stderr or "Signature" in done.stderr
    assert PartyDir(parties.bank).state("j4")["status"] == "failed"


def test_a_host_refuses_an_unknown_signer_and_a_replayed_frame(parties: Parties, host: HostProcess) -> None:
    parties.job("j5", psi="size")
    bank = PartyDir(parties.bank)
    state = guest.run(bank, "j5", host.url)
    assert state["metrics"] == {"intersection_size": 1000, "guest_rows": 1200}
    assert PartyDir(parties.hub).state("j5")["status"] == "done"
    first = next(
        frame
        for direction, frame in read_capture(parties.bank / "jobs" / "j5" / "capture.bin")
        if direction == "S"
    )
    status, problem = _post(host.url, first)
    assert status == 401 and problem["code"] == "joint_message_replayed"
    forged = bytearray(first)
    forged[-1] ^= 1  # one bit of the signed payload
    status, problem = _post(host.url, bytes(forged))
    assert status == 401 and problem["code"] == "joint_signature_rejected"
    events = [e["event"] for e in read_audit(parties.hub / "jobs" / "j5" / "audit.jsonl")]
    assert events.count("message_rejected") == 2


def _post(url: str, frame: bytes) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url + PATH, data=frame), timeout=30) as answer:
            return answer.status, {}
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
