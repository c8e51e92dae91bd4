"""A joint job end to end with the host in its own process and the guest run from the CLI in another.

The pooled baseline and its AUC are computed here independently of jinyu.jointmodel (numpy, the formulas of
docs/joint-modelling.md, and AUC by counting pairs), on the same aligned rows, split and batch order.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from jinyu.cli import app
from jinyu.jointmodel import envelope, service
from jinyu.jointmodel.journal import read_audit, read_capture
from jinyu.jointmodel.party import PartyDir
from tests.jointmodel.conftest import HostProcess, Parties, read_rows, run_cli


def _pair_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    wins = sum(float((p > neg).sum()) + 0.5 * float((p == neg).sum()) for p in pos)
    return wins / (len(pos) * len(neg))


def _pooled(
    parties: Parties, seed: int, epochs: int, lr: float, batch: int, share: float
) -> dict[str, object]:
    guest, host = read_rows(parties.guest_csv), read_rows(parties.host_csv)
    ids = sorted(set(guest) & set(host))

    def valid(i: str) -> bool:
        return int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "big") / 2**64 < share

    def matrix(rows: list[str]) -> tuple[np.ndarray, np.ndarray]:
        g_cols = [c for c in next(iter(guest.values())) if c not in ("id", "y")]
        h_cols = [c for c in next(iter(host.values())) if c != "id"]
        x = [[1.0] + [float(guest[i][c]) for c in g_cols] + [float(host[i][c]) for c in h_cols] for i in rows]
        return np.array(x), np.array([float(guest[i]["y"]) for i in rows])

    train_x, train_y = matrix([i for i in ids if not valid(i)])
    valid_x, valid_y = matrix([i for i in ids if valid(i)])
    w = np.zeros(train_x.shape[1])
    for epoch in range(epochs):
        order = np.random.default_rng([seed, epoch]).permutation(len(train_y))
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            residual = 0.25 * (train_x[rows] @ w) + 0.5 - train_y[rows]
            w = w - lr * train_x[rows].T @ residual / len(rows)
    return {"weights": w, "auc": _pair_auc(valid_x @ w, valid_y), "train_x": train_x, "train_y": train_y}


def test_joint_job_matches_pooled_training_and_reveals_nothing_raw(
    parties: Parties, host: HostProcess
) -> None:
    parties.job("j1")
    done = run_cli(
        "joint", "job", "run", "--dir", str(parties.bank), "--job-id", "j1", "--host-url", host.url, "--json"
    )
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)
    assert state["status"] == "done" and state["epoch"] == 3
    pooled = _pooled(parties, seed=11, epochs=3, lr=0.5, batch=256, share=0.25)
    metrics = state["metrics"]
    assert metrics["rows_aligned"] == 1000
    assert abs(metrics["auc"] - pooled["auc"]) < 0.005
    assert metrics["auc"] > metrics["guest_alone_auc"]

    # both halves registered under the same version; each holds only its own features' card
    bank_models, hub_models = service.list_models(parties.bank), service.list_models(parties.hub)
    assert [(m["model"], m["version"]) for m in bank_models] == [("sme-risk", 1)]
    assert [(m["model"], m["version"]) for m in hub_models] == [("sme-risk", 1)]
    hub_weights = json.loads((parties.hub / "registry.json").read_text())[0]["card"]["weights"]
    np.testing.assert_allclose(hub_weights, pooled["weights"][-10:], atol=1e-3)  # type: ignore[index]

    for side in (parties.bank, parties.hub):
        shown = service.show_job(side, "j1")
        assert shown["state"]["status"] == "done"
        assert shown["audit_entries"] >= 5 and "model_registered" in shown["audit_events"]
    _assert_capture_is_clean(parties, pooled)
    _assert_joint_scores_follow_both_cards(parties, host)
    _assert_the_regulator_files_both_signed_reports(parties, metrics)


def _assert_the_regulator_files_both_signed_reports(parties: Parties, metrics: dict[str, object]) -> None:
    for side, name in ((parties.bank, "bank-a"), (parties.hub, "hub")):
        out = parties.root / f"report-{name}.json"
        made = CliRunner().invoke(
            app, ["joint", "job", "report", "--dir", str(side), "--job-id", "j1", "--out", str(out)]
        )
        assert made.exit_code == 0, made.output
        filed = CliRunner().invoke(
            app, ["joint", "job", "receive", "--dir", str(parties.reg), "--report", str(out), "--json"]
        )
        assert filed.exit_code == 0, filed.output
        body = json.loads(filed.output)
        assert body["party"] == name and body["status"] == "done" and body["version"] == 1
        assert body["metrics"] == metrics
    forged = json.loads(out.read_text())
    forged["report"]["metrics"] = {"auc": 0.99}
    out.write_text(json.dumps(forged))
    refused = CliRunner().invoke(
        app, ["joint", "job", "receive", "--dir", str(parties.reg), "--report", str(out)]
    )
    assert refused.exit_code == 1 and "Signature" in refused.output
    events = [e["event"] for e in read_audit(parties.reg / "jobs" / "j1" / "audit.jsonl")]
    assert events == ["job_declared", "job_reported", "job_reported"]


def _assert_joint_scores_follow_both_cards(parties: Parties, host: HostProcess) -> None:
    """`jinyu joint model score`: each score is 600 − 20/ln2·(ln 50 + intercept) plus both halves' bin points,
    recomputed here with bisect from the two registries; ids one side lacks are reported, not dropped."""
    ids_file = parties.root / "ids.txt"
    guest, hub = read_rows(parties.guest_csv), read_rows(parties.host_csv)
    shared = sorted(set(guest) & set(hub))[:5]
    only_guest = sorted(set(guest) - set(hub))[0]
    ids_file.write_text("\n".join([*shared, only_guest, "no-such-id"]) + "\n")
    done = run_cli(
        "joint",
        "model",
        "score",
        "--dir",
        str(parties.bank),
        "--model",
        "sme-risk",
        "--ids",
        str(ids_file),
        "--host-url",
        host.url,
        "--json",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [r["id"] for r in result["scores"]] == shared
    assert {r["id"] for r in result["unscored"]} == {only_guest, "no-such-id"}
    bank_card = json.loads((parties.bank / "registry.json").read_text())[0]["card"]
    hub_card = json.loads((parties.hub / "registry.json").read_text())[0]["card"]
    factor = 20 / math.log(2)
    for row in result["scores"]:
        total = 600 - factor * math.log(50) - factor * bank_card["intercept"]
        for card, record in ((bank_card, guest[row["id"]]), (hub_card, hub[row["id"]])):
            for name, (edges, points) in zip(card["features"], card["table"], strict=True):
                total += points[bisect.bisect_left(edges, float(record[name]))]
        assert row["score"] == pytest.approx(total, abs=0.01)
        assert row["pd"] == pytest.approx(
            1 / (1 + math.exp((row["score"] - 600 + factor * math.log(50)) / factor)), abs=1e-4
        )


def _assert_capture_is_clean(parties: Parties, pooled: dict[str, object]) -> None:
    """Every captured frame verifies; no plain number in any header equals a raw feature, label or gradient."""
    guest = PartyDir(parties.bank)
    frames = list(read_capture(parties.bank / "jobs" / "j1" / "capture.bin"))
    hub_frames = list(read_capture(parties.hub / "jobs" / "j1" / "capture.bin"))
    assert len(frames) == len(hub_frames) > 20
    assert {f for _, f in frames} == {f for _, f in hub_frames}  # both sides logged the same bytes
    train_x, train_y = pooled["train_x"], pooled["train_y"]
    assert isinstance(train_x, np.ndarray) and isinstance(train_y, np.ndarray)
    raw = {round(float(v), 6) for v in train_x[:, 1:].ravel()}
    kinds = set()
    for _, frame in frames:
        message = envelope.decode(frame, guest.peers())
        kinds.add(message.kind)
        for name, value in message.fields.items():
            if name == "masked_sums" and value:
                # a masked gradient sum is far from any plain gradient entry (masks are uniform in ±100 per slot)
                assert max(abs(v) for v in value) > 1.0
            if name in ("partial", "points", "masked_sums") and value:
                # a few coincidences at 6 decimals happen by chance; a leaked column would match all its values
                matches = sum(round(float(v), 6) in raw for v in value)
                assert matches <= max(2, len(value) // 20), (name, matches)
        header = frame[8 : 8 + int.from_bytes(frame[4:8], "big")]  # blobs are ciphertexts or PSI messages
        assert b'"y"' not in header and str(train_y.tolist()[:20])[1:-1].encode() not in header
    assert {"hello", "psi", "align", "forward", "exchange", "checkpoint", "score", "finish"} <= kinds
