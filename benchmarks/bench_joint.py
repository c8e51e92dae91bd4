"""Joint modelling: time and bytes per epoch of the encrypted two-process protocol against plain training.

Runs on ../shared/data/default_credit (bank = guest with labels and 13 features, hub = host with 10 features),
in one run:
- `numpy`: the pooled plaintext baseline (the same Taylor-approximated mini-batch gradient descent on the joined
  rows, one process), before and after the jobs, and the guest's features alone;
- three joint jobs, each with the host in its own process and the guest driving it over loopback HTTP, the same
  signed and captured frames in the same order, differing only in the cipher:
  `plain` (no encryption: benchmarks/joint_ciphers.py, unreachable from the CLI), `ckks-first` (the first CKKS
  layout, kept in benchmarks/joint_ciphers.py) and `ckks` (the package's, started as `jinyu joint party serve`).
"Encryption overhead" is a CKKS epoch over the `plain` protocol epoch; the ratio to the numpy epoch is also given.
Prints and writes benchmarks/results/joint.json: medians of seconds per epoch (wall) and of CPU seconds per epoch
(guest + host processes, load-independent), bytes exchanged per epoch (both directions, from the capture), PSI
time, AUCs, and CKKS operation costs.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_joint.py --epochs 5
"""

from __future__ import annotations

import argparse
import itertools
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

from benchmarks.joint_ciphers import CIPHERS
from benchmarks.machine import calibration, cpu_shares, cpu_times, machine_info
from jinyu.jointmodel import envelope, guest, he, rules, service
from jinyu.jointmodel.journal import read_audit, read_capture
from jinyu.jointmodel.party import PartyDir

RESULTS = Path(__file__).parent / "results"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "default_credit"
if not DATA.exists():
    DATA = Path("/work/shared/data/default_credit")
VARIANTS = ("plain", "ckks-first", "ckks")  # the order the jobs run in
TRAINING_KINDS = {"forward", "exchange", "checkpoint", "forward-reply", "exchange-reply", "checkpoint-reply"}


def _parties(root: Path, spec: dict[str, Any], job_ids: list[str]) -> tuple[Path, Path]:
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
    for job_id in job_ids:
        service.create_job(root / "reg", root / f"{job_id}.json", **(spec | {"job_id": job_id}))
        service.accept_job(root / "bank", root / f"{job_id}.json")
        service.accept_job(root / "hub", root / f"{job_id}.json")
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


def _ckks_costs(cipher: he.GradientCipher, rows: int, runs: int = 20) -> dict[str, float]:
    """CPU milliseconds (this process, so not inflated by other work's scheduling) of one batch's operations:
    encrypting the residual, the masked product of one column, its decryption and slot sum; and their sizes."""
    owner = cipher.new_secret()
    public = cipher.load_public(cipher.public_bytes(owner))
    rng = np.random.default_rng(1)
    values, column = rng.normal(size=rows), rng.normal(size=(rows, 1))
    cost: dict[str, list[float]] = {"encrypt_ms": [], "product_and_mask_ms": [], "decrypt_sum_ms": []}
    for _ in range(runs):
        t0 = time.process_time()
        blobs = cipher.encrypt(owner, values)
        t1 = time.process_time()
        products, _ = cipher.masked_column_products(public, blobs, values, column, rng)
        t2 = time.process_time()
        cipher.decrypt_sums(owner, products, rows)
        t3 = time.process_time()
        cost["encrypt_ms"].append((t1 - t0) * 1000)
        cost["product_and_mask_ms"].append((t2 - t1) * 1000)
        cost["decrypt_sum_ms"].append((t3 - t2) * 1000)
    return {k: round(statistics.median(v), 2) for k, v in cost.items()} | {
        "residual_bytes": sum(len(b) for b in blobs),
        "product_bytes": len(products[0]),
    }


def _host(directory: Path, cipher: str) -> tuple[subprocess.Popen[str], str]:
    """The host in its own process: the real `jinyu joint party serve` for CKKS, the benchmark's launcher else."""
    serve = ["-m", "jinyu.cli", "joint", "party", "serve", "--dir", str(directory), "--port", "0"]
    other = ["-m", "benchmarks.joint_ciphers", "--dir", str(directory), "--cipher", cipher]
    process = subprocess.Popen(
        [sys.executable, *(serve if cipher == "ckks" else other)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert process.stdout is not None
    return process, process.stdout.readline().split("serving on ")[1].strip()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _job(bank_dir: Path, hub_dir: Path, job_id: str, cipher: str) -> dict[str, Any]:
    """Run one joint job; CPU per epoch is read at each epoch's last batch (guest + host processes)."""
    process, url = _host(hub_dir, cipher)
    marks: dict[int, float] = {}

    def on_batch(epoch: int, number: int) -> None:
        marks[epoch] = time.process_time() + _cpu_seconds(process.pid)

    try:
        started = time.perf_counter()
        implementation = he.CKKS if cipher == "ckks" else CIPHERS[cipher]
        state = guest.run(PartyDir(bank_dir), job_id, url, on_batch=on_batch, cipher=implementation)
        total = time.perf_counter() - started
    finally:
        process.kill()
        process.wait()
    ordered = [marks[e] for e in sorted(marks)]
    audit = read_audit(bank_dir / "jobs" / job_id / "audit.jsonl")
    return {
        "state": state,
        "total_s": total,
        "cpu_epoch_s": [b - a for a, b in itertools.pairwise(ordered)],
        "psi_s": _seconds_between(audit, "session_opened", "aligned"),
        "bytes_per_epoch": _training_bytes(bank_dir, job_id, len(ordered)),
    }


def _training_bytes(bank_dir: Path, job_id: str, epochs: int) -> float:
    trusted = PartyDir(bank_dir).peers()
    total = sum(
        len(f)
        for _, f in read_capture(bank_dir / "jobs" / job_id / "capture.bin")
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
    jobs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        bank_dir, hub_dir = _parties(Path(tmp), spec, [f"bench-{c}" for c in VARIANTS])
        plain_before = _plain(PartyDir(bank_dir), PartyDir(hub_dir), spec, args.epochs)
        for cipher in VARIANTS:
            jobs[cipher] = _job(bank_dir, hub_dir, f"bench-{cipher}", cipher)
        plain_after = _plain(PartyDir(bank_dir), PartyDir(hub_dir), spec, args.epochs)
    numpy_median = statistics.median(plain_before["epoch_s"] + plain_after["epoch_s"])
    wall = {c: statistics.median(j["state"]["epoch_seconds"]) for c, j in jobs.items()}
    cpu = {c: statistics.median(j["cpu_epoch_s"]) for c, j in jobs.items()}
    ckks = jobs["ckks"]["state"]["metrics"]
    figures = {
        "rows_aligned": ckks["rows_aligned"],
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "numpy_epoch_s_median": round(numpy_median, 5),
        "epoch_s_median": {c: round(v, 4) for c, v in wall.items()},
        "cpu_epoch_s_median": {c: round(v, 3) for c, v in cpu.items()},
        "encryption_overhead": {  # a CKKS epoch over the same protocol's plaintext epoch
            c: {"wall": round(wall[c] / wall["plain"], 2), "cpu": round(cpu[c] / cpu["plain"], 2)}
            for c in ("ckks-first", "ckks")
        },
        "ckks_to_numpy_ratio": {c: round(wall[c] / numpy_median, 1) for c in ("ckks-first", "ckks")},
        "ckks_to_ckks_first": {
            "wall": round(wall["ckks"] / wall["ckks-first"], 3),
            "cpu": round(cpu["ckks"] / cpu["ckks-first"], 3),
        },
        "mb_per_epoch": {c: round(j["bytes_per_epoch"] / 1e6, 2) for c, j in jobs.items()},
        "psi_s": {c: round(j["psi_s"], 2) for c, j in jobs.items()},
        "job_total_s": {c: round(j["total_s"], 2) for c, j in jobs.items()},
        "auc_joint": {c: j["state"]["metrics"]["auc"] for c, j in jobs.items()},
        "auc_pooled_plain": round(plain_before["auc"], 6),
        "auc_guest_alone": round(plain_before["guest_alone_auc"], 6),
        "auc_scorecard": ckks["scorecard_auc"],
        "ks_joint": ckks["ks"],
        "ckks_batch_costs": {
            "ckks-first": _ckks_costs(CIPHERS["ckks-first"], args.batch_size),
            "ckks": _ckks_costs(he.CKKS, args.batch_size),
        },
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
