"""Rotation against loads and other rotations: a load whose keyring predates the pending flag is refused (and
one that predates the activation writes the new version), a rotation waits for a load in flight of any dataset,
and a second rotation while one holds the lock is refused — through the CLI with a clear message and exit 1."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from jinyu.analytics import Lake
from jinyu.cli import app
from jinyu.core import pseudokeys
from jinyu.core.auth import SYSTEM
from jinyu.core.errors import Conflict
from jinyu.core.privacy import token_version
from jinyu.governance.keys import lakefiles, service
from jinyu.ingest import service as ingest
from jinyu.models import metadata
from tests.fixtures.auth import resident_id, uscc
from tests.ingest.test_service import enterprise, write_csv

from .region import KEY1, Region, build
from .test_api_cli import hub  # noqa: F401  (the throwaway hub fixture of the CLI tests)


def _ingest_stores(tmp_path: Path, ring: pseudokeys.Keyring) -> ingest.Stores:
    return ingest.Stores(Lake(tmp_path / "lake"), tmp_path / "quarantine", ring, b"q" * 32)


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    path = tmp_path / "keys"
    path.mkdir(mode=0o700)
    return path


def _enterprise_file(tmp_path: Path, n: int) -> Path:
    return write_csv(tmp_path / f"e{n}.csv", "enterprises", [enterprise(uscc(n), resident_id(seq=n))])


def test_a_load_whose_keyring_predates_the_pending_flag_is_refused(
    session: Session, tmp_path: Path, keys_dir: Path
) -> None:
    stale = pseudokeys.load(keys_dir, KEY1)  # read when the load's request began: no rotation yet
    stores = _ingest_stores(tmp_path, stale)
    pseudokeys.save(keys_dir, pseudokeys.with_new_version(stale))  # meanwhile, step 1 of a rotation
    with pytest.raises(Conflict, match="rotation to version 2"):
        ingest.ingest(session, SYSTEM, "enterprises", _enterprise_file(tmp_path, 1), stores)
    assert not list((tmp_path / "lake").rglob("*.parquet"))


def test_a_load_whose_keyring_predates_the_activation_writes_the_new_version(
    session: Session, tmp_path: Path, keys_dir: Path
) -> None:
    stale = pseudokeys.load(keys_dir, KEY1)
    stores = _ingest_stores(tmp_path, stale)
    ring = pseudokeys.with_new_version(stale)
    pseudokeys.save(keys_dir, pseudokeys.activated(ring, dt.datetime.now(dt.UTC)))
    ingest.ingest(session, SYSTEM, "enterprises", _enterprise_file(tmp_path, 2), stores)
    session.commit()
    [part] = (tmp_path / "lake" / "enterprises").rglob("*.parquet")
    [rep] = pq.read_table(part, columns=["legal_rep_id"]).column(0).to_pylist()
    assert token_version(rep) == 2  # not the version-1 token of the snapshot


@pytest.fixture
def region(session: Session, tmp_path: Path) -> Region:
    return build(session, tmp_path)


@pytest.fixture
def load_in_flight(region: Region) -> Iterator[threading.Event]:
    """A load of a dataset with no lake files yet, declared in flight by another thread until `release`."""
    declared, release = threading.Event(), threading.Event()

    def run() -> None:
        pending = Lake(region.lake_root).begin_load("inflight0001", ["loan_repayments_new"])
        declared.set()
        release.wait(30)
        pending.settle(keep=False)

    worker = threading.Thread(target=run)
    worker.start()
    declared.wait(30)
    yield release
    release.set()
    worker.join()


def _stores(region: Region) -> service.Stores:
    return service.Stores(region.lake_root, region.keys_dir, region.ring, metadata)


def test_a_rotation_waits_for_a_load_in_flight_of_any_dataset(
    session: Session, region: Region, load_in_flight: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "LOAD_WAIT_SECONDS", 0.2)
    with pytest.raises(Conflict, match="inflight0001"):
        service.rotate(session, SYSTEM, _stores(region))
    # Loads are refused from here (the key is pending), and the lake is as it was.
    assert region.ring().pending == 2 and not list(region.lake_root.rglob(".rot-*"))
    # Released a little after the rotation starts waiting: nothing is staged while the load is in flight.
    monkeypatch.setattr(service, "LOAD_WAIT_SECONDS", 30.0)
    staged_while_loading: list[bool] = []
    real_stage = lakefiles.stage

    def stage(*args: Any) -> Path:
        staged_while_loading.append(not load_in_flight.is_set())
        return real_stage(*args)

    monkeypatch.setattr(lakefiles, "stage", stage)
    threading.Timer(0.3, load_in_flight.set).start()
    service.rotate(session, SYSTEM, _stores(region))
    assert staged_while_loading and not any(staged_while_loading)


def test_a_rotation_is_refused_while_another_holds_the_lock(session: Session, region: Region) -> None:
    refused: list[BaseException] = []

    def second() -> None:
        try:
            service.rotate(session, SYSTEM, _stores(region))
        except Conflict as exc:
            refused.append(exc)

    with service.exclusive(_stores(region)):  # the first rotation, from its pending key to its activation
        worker = threading.Thread(target=second)
        worker.start()
        worker.join()
    assert len(refused) == 1 and "another key rotation is running" in str(refused[0].detail)
    assert not (region.keys_dir / pseudokeys.KEYRING_FILE).exists()  # the second changed nothing


def test_cli_a_second_rotate_is_refused_with_exit_1(hub: Path) -> None:  # noqa: F811
    keys_dir = hub / "keys"
    keys_dir.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(keys_dir / "rotation.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another `jinyu keys rotate` at work
        result = CliRunner().invoke(app, ["keys", "rotate"])
    finally:
        os.close(fd)
    assert result.exit_code == 1, result.output
    assert "另一个密钥轮换正在运行" in result.output and "another key rotation is running" in result.output
    assert not (keys_dir / pseudokeys.KEYRING_FILE).exists()
    ok = CliRunner().invoke(app, ["keys", "rotate", "--json"])  # once the first is done, it runs
    assert ok.exit_code == 0, ok.output
