"""Fixtures of the joint-modelling tests: small data cut from default_credit, three party dirs, a host process."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jinyu.jointmodel import service

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "default_credit"
if not DATA.exists():  # the worktree lives elsewhere than the main checkout
    DATA = Path("/work/shared/data/default_credit")


def _cut(source: Path, target: Path, rows: range) -> None:
    with source.open() as f:
        lines = f.read().splitlines()
    target.write_text("\n".join([lines[0]] + [lines[i + 1] for i in rows]) + "\n")


@dataclass
class Parties:
    root: Path
    reg: Path
    bank: Path
    hub: Path
    guest_csv: Path
    host_csv: Path

    def job(self, job_id: str, **spec: object) -> None:
        fields = dict(
            job_id=job_id,
            guest="bank-a",
            host="hub",
            model_name="sme-risk",
            psi="intersection",
            epochs=3,
            learning_rate=0.5,
            l2=0.0,
            batch_size=256,
            valid_share=0.25,
            bins=5,
            seed=11,
        )
        fields.update(spec)
        job_file = self.root / f"{job_id}.json"
        service.create_job(self.reg, job_file, **fields)
        service.accept_job(self.bank, job_file)
        service.accept_job(self.hub, job_file)


@pytest.fixture
def parties(tmp_path: Path) -> Parties:
    guest_csv, host_csv = tmp_path / "guest.csv", tmp_path / "host.csv"
    _cut(DATA / "default_credit_hetero_guest.csv", guest_csv, range(0, 1200))
    _cut(DATA / "default_credit_hetero_host.csv", host_csv, range(200, 1400))  # 1,000 rows in common
    keys = {
        "regulator": service.init_party(tmp_path / "reg", "regulator", "regulator", None, "id", "y"),
        "bank-a": service.init_party(tmp_path / "bank", "bank-a", "guest", guest_csv, "id", "y"),
        "hub": service.init_party(tmp_path / "hub", "hub", "host", host_csv, "id", "y"),
    }
    for me, peers in {
        "bank": ("regulator", "hub"),
        "hub": ("regulator", "bank-a"),
        "reg": ("bank-a", "hub"),
    }.items():
        for peer in peers:
            service.trust(tmp_path / me, peer, keys[peer]["public_key"])
    return Parties(tmp_path, tmp_path / "reg", tmp_path / "bank", tmp_path / "hub", guest_csv, host_csv)


@dataclass
class HostProcess:
    process: subprocess.Popen[str]
    url: str

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def start_host(directory: Path, *extra: str) -> HostProcess:
    """`jinyu joint party serve` in its own process on a free port (read back from its first line)."""
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
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "serving on" not in line:
        process.kill()
        raise AssertionError(f"host did not start: {line}{process.stdout.read()}")
    return HostProcess(process, line.split("serving on ")[1].strip())


@pytest.fixture
def host(parties: Parties) -> Iterator[HostProcess]:
    node = start_host(parties.hub)
    yield node
    if node.process.poll() is None:
        node.kill()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jinyu.cli", *args], capture_output=True, text=True, timeout=300
    )


def read_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open() as f:
        return {row["id"]: row for row in csv.DictReader(f)}
