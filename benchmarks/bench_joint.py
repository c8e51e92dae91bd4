"""Joint modelling: time and bytes per epoch of the encrypted two-process protocol against plain training.

Runs on ../shared/data/default_credit (bank = guest with labels and 13 features, hub = host with 10 features),
in one run: the pooled plaintext baseline (the same Taylor-approximated mini-batch gradient descent on the joined
rows, numpy, one process), the guest's features alone, and the joint job with the host in its own process
(`jinyu joint party serve`) and the guest driving it over loopback HTTP. Prints and writes
benchmarks/results/joint.json: medians of seconds per epoch, their ratio, bytes exchanged per epoch (both
directions, from the capture), PSI time, AUCs, and CKKS operation costs to explain the ratio.

    .venv/bin/python benchmarks/bench_joint.py --epochs 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.machine import calibration, cpu_shares, cpu_times, machine_info
from jinyu.jointmodel import envelope, guest, he, rules, service
from jinyu.jointmodel.journal import read_audit, read_capture
from jinyu.jointmodel.party import PartyDir

RESULTS = Path(__file__).parent / "results"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "default_credit"
if not DATA.exists():
    DATA = Path("/work/shared/data/default_credit")
TRAINING_KINDS = {"forward", "exchange", "checkpoint", "forward-reply", "exchange-reply", "checkpoint-reply"}


def _parties(root: Path, spec: dict[str, Any]) -> tuple[Path, Path]:
    keys = {
        "regulator": service.init_party(root / "reg", "regulator", "regulator", None, "id", "y"),
        "bank-a": service.init_party(
            root / "bank", "bank-a", "guest", DATA / "default_credit_hetero_guest.csv", "id", "y"
        ),
        "hub": service.init_party(
            root / "hub", "hub", "host", DATA / "default_credit_hetero_host.csv", "id", "y"
        ),
    }
    for me, peers in {"bank": ("regulator", "hub"), "hub": ("regulator", "bank-a")}.items():
        for peer in peers:
            service.trust(root / me, peer, keys[peer]["public_key"])
    service.create_job(root / "reg", root / "job.json", **spec)
    service.accept_job(root / "bank", root / "job.json")
    service.accept_job(root / "hub", root / "job.json")
    return root / "bank", root / "hub"


def _plain(bank: PartyDir, hub: PartyDir, spec: dict[str, Any], epochs: int) -> dict[str, Any]:
    """Pooled plaintext training on the joined rows, timed per epoch, and the guest-alone model."""
    g, h = bank.load_data(), hub.load_data()
    g_pos = {row_id: i for i, row_id in enumerate(g.ids)}
    h_pos = {row_id: i for i, row_id in enumerate(h.ids)}
    # the joint protocol orders the aligned rows by id (as text); the same order gives the same batches
    ids = sorted(set(g_pos) & set(h_pos))
    x = np.hstack(
        [rules.with_intercept(g.features[[g_pos[i] for i in ids]]), h.features[[h_pos[i] for i in ids]]]
    )
    assert g.labels is not None
    y = g.labels[[g_pos[i] for i in ids]]
    valid = np.array([rules.is_validation(i, spec["seed"], spec["valid_share"]) for i in ids])
    train_x, train_y = x[~valid], y[~valid]
    times, weights = [], np.zeros(x.shape[1])
    for epoch in range(epochs):
        started = time.perf_counter()
        for batch in rules.epoch_batches(len(train_y), spec["batch_size"], epoch, spec["seed"]):
            xb, yb = train_x[batch], train_y[batch]
            residual = rules.TAYLOR_SLOPE * (xb @ weights) + rules.TAYLOR_OFFSET - yb
            weights -= spec["learning_rate"] * rules.batch_gradient(xb, residual, weights, spec["l2"])
        times.append(time.perf_counter() - started)
    k_g = g.features.shape[1] + 1
    alone = rules.train_plain(
        train_x[:, :k_g],
        train_y,
        epochs=epochs,
        learning_rate=spec["learning_rate"],
        l2=spec["l2"],
        batch_size=spec["batch_size"],
        seed=spec["seed"],
    )
    return {
        "epoch_s": times,
        "auc": rules.auc(x[valid] @ weights, y[valid]),
        "guest_alone_auc": rules.auc(x[valid][:, :k_g] @ alone, y[valid]),
    }


def _ckks_costs(runs: int = 20) -> dict[str, float]:
    owner = he.new_secret_context()
    public = he.load_context(he.public_bytes(owner))
    rng = np.random.default_rng(1)
    values, column = rng.normal(size=he.SLOTS), rng.normal(size=(he.SLOTS, 1))
    cost: dict[str, list[float]] = {"encrypt_ms": [], "product_and_mask_ms": [], "decrypt_sum_ms": []}
    for _ in range(runs):
        t0 = time.perf_counter()
        blob = he.encrypt(owner, values)
        t1 = time.perf_counter()
        products, _ = he.masked_column_products(public, blob, values, column, rng)
        t2 = time.perf_counter()
        he.decrypt_sums(owner, products)
        t3 = time.perf_counter()
        cost["encrypt_ms"].append((t1 - t0) * 1000)
        cost["product_and_mask_ms"].append((t2 - t1) * 1000)
        cost["decrypt_sum_ms"].append((t3 - t2) * 1000)
    return {k: round(statistics.median(v), 2) for k, v in cost.items()} | {
        "ciphertext_bytes": len(blob),
        "product_bytes": len(products[0]),
    }


def _host(directory: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jinyu.cli",
            "joint",
            "party",
            "serve",
            "--dir",
            str(directory),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    return process, process.stdout.readline().split("serving on ")[1].strip()


def _training_bytes(bank_dir: Path, epochs: int) -> float:
    trusted = PartyDir(bank_dir).peers()
    total = sum(
        len(f)
        for _, f in read_capture(bank_dir / "jobs" / "bench" / "capture.bin")
        if envelope.decode(f, trusted).kind in TRAINING_KINDS
    )
    return total / epochs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--out", default="joint.json", help="file name under benchmarks/results/")
    args = parser.parse_args()
    spec = dict(
        job_id="bench",
        guest="bank-a",
        host="hub",
        model_name="bench",
        psi="intersection",
        epochs=args.epochs,
        learning_rate=0.5,
        l2=0.0,
        batch_size=args.batch_size,
        valid_share=0.2,
        bins=10,
        seed=7,
    )
    calibration_before, cpu_before = calibration(), cpu_times()
    with tempfile.TemporaryDirectory() as tmp:
        bank_dir, hub_dir = _parties(Path(tmp), spec)
        plain_before = _plain(PartyDir(bank_dir), PartyDir(hub_dir), spec, args.epochs)
        process, url = _host(hub_dir)
        try:
            started = time.perf_counter()
            state = guest.run(PartyDir(bank_dir), "bench", url)
            total = time.perf_counter() - started
        finally:
            process.kill()
            process.wait()
        plain_after = _plain(PartyDir(bank_dir), PartyDir(hub_dir), spec, args.epochs)
        audit = read_audit(bank_dir / "jobs" / "bench" / "audit.jsonl")
        psi_s = _seconds_between(audit, "session_opened", "aligned")
        per_epoch_bytes = _training_bytes(bank_dir, args.epochs)
    plain_median = statistics.median(plain_before["epoch_s"] + plain_after["epoch_s"])
    joint_median = statistics.median(state["epoch_seconds"])
    figures = {
        "rows_aligned": state["metrics"]["rows_aligned"],
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "plain_epoch_s_median": round(plain_median, 5),
        "joint_epoch_s_median": round(joint_median, 4),
        "joint_to_plain_ratio": round(joint_median / plain_median, 1),
        "bytes_per_epoch": int(per_epoch_bytes),
        "mb_per_epoch": round(per_epoch_bytes / 1e6, 2),
        "psi_s": round(psi_s, 2),
        "job_total_s": round(total, 2),
        "auc_joint": state["metrics"]["auc"],
        "auc_pooled_plain": round(plain_before["auc"], 6),
        "auc_guest_alone": round(plain_before["guest_alone_auc"], 6),
        "auc_scorecard": state["metrics"]["scorecard_auc"],
        "ks_joint": state["metrics"]["ks"],
        "ckks": _ckks_costs(),
    }
    for name, value in figures.items():
        print(f"{name:24s} {value}")
    result = {
        "figures": figures,
        "machine": machine_info(),
        "calibration": {"before": calibration_before, "after": calibration()},
        "cpu": cpu_shares(cpu_before, cpu_times()),
    }
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.out) if Path(args.out).is_absolute() else RESULTS / args.out
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {out}")


def _seconds_between(audit: list[dict[str, Any]], first: str, second: str) -> float:
    from datetime import datetime

    moments = {e["event"]: datetime.fromisoformat(e["at"]) for e in reversed(audit)}
    return (moments[second] - moments[first]).total_seconds()


if __name__ == "__main__":
    main()
