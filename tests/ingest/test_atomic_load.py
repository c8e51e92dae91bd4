"""A load is atomic: killed (SIGKILL) at any phase, it leaves nothing readers can see and nothing hidden once
the next load or start-up has run, and a corrected file then accounts for every row exactly once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jinyu.analytics import Lake, duck
from jinyu.app import create_app
from jinyu.config import load_settings
from jinyu.core import db
from jinyu.core.auth import SYSTEM
from jinyu.ingest import service
from jinyu.ingest.models import Load
from jinyu.models import metadata
from tests.fixtures.auth import resident_id
from tests.fixtures.database import _create_pg_database, _drop_pg_database

from .test_service import KEY, write_csv

ROOT = Path(__file__).resolve().parents[2]
DATASET = "claim_insured"
PHASES = ["temp", "linked", "flushed", "committed"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def crash_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own: the worker and the test commit for real, across processes."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
        server, name = None, ""
    else:
        server = request.getfixturevalue("postgres_server")
        if server is None:
            pytest.skip("PostgreSQL unavailable / 无 PostgreSQL")
        name, url = _create_pg_database(server)
    engine = db.make_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    yield url
    if server is not None:
        _drop_pg_database(server, name)


def _files(tmp_path: Path) -> tuple[Path, Path]:
    """The first file (one row with a bad premium) and the corrected file (same rows, premium fixed)."""
    product = f"P-{uuid.uuid4().hex[:8]}"  # content unique to this test, whatever the database holds
    people = [
        {"person_id": resident_id(birth=f"19{70 + i}0101", seq=i + 1), "product_code": product,
         "policy_year": "2024", "premium": "69.00", "enrolled_on": f"2023-{10 + i % 3}-15"}
        for i in range(6)
    ]  # fmt: skip
    late = {**people[0], "person_id": resident_id(birth="19690101", seq=9), "premium": "lots"}
    first = write_csv(tmp_path / "first.csv", DATASET, [*people, late])
    corrected = write_csv(tmp_path / "corrected.csv", DATASET, [*people, late | {"premium": "69.00"}])
    return first, corrected


def _kill_at(phase: str, url: str, lake: Path, path: Path) -> None:
    job = {"url": url, "lake": str(lake), "quarantine": str(lake.parent / "quarantine"), "key": KEY.decode(),
           "dataset": DATASET, "path": str(path), "phase": phase}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "tests.ingest.crash_worker"],
        cwd=ROOT,
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr


def _visible_keys(lake: Path) -> list[tuple[str, str]]:
    if not Lake(lake).files(DATASET):
        return []
    con = duck.connect()
    try:
        scan = duck.scan_sql(lake, DATASET)
        return [(r[0], r[1]) for r in con.sql(f"SELECT person_id, product_code FROM {scan}").fetchall()]
    finally:
        con.close()


def _hidden(lake: Path) -> list[Path]:
    return sorted(
        p for p in lake.rglob("*") if p.is_file() and (p.name.startswith(".") or "_pending" in p.parts)
    )


@pytest.mark.parametrize("phase", PHASES)
def test_a_load_killed_at_any_phase_then_a_corrected_file_accounts_for_every_row_once(
    crash_url: str, tmp_path: Path, phase: str
) -> None:
    lake_dir = tmp_path / "lake"
    first, corrected = _files(tmp_path)
    _kill_at(phase, crash_url, lake_dir, first)
    if phase == "temp":
        assert _hidden(lake_dir)  # what the kill left: a temporary file and the in-flight marker

    factory = db.make_sessionmaker(db.make_engine(crash_url))
    stores = service.Stores(Lake(lake_dir), tmp_path / "quarantine", KEY, KEY)
    with db.transaction(factory) as session:
        report = service.ingest(session, SYSTEM, DATASET, corrected, stores)

    assert report.rows_total == 7
    if phase == "committed":  # the first load counts: its six good rows are in, the seventh comes now
        assert (report.accepted, report.rejected_by_reason) == (1, {"duplicate_key_existing": 6})
    else:  # the first load never happened
        assert (report.accepted, report.rejected) == (7, 0)
    keys = _visible_keys(lake_dir)
    assert len(keys) == len(set(keys)) == 7 == Lake(lake_dir).row_count(DATASET)
    with factory() as session:
        loads = session.scalars(select(Load).where(Load.dataset == DATASET)).all()
    assert sum(load.accepted for load in loads) == 7
    assert len(loads) == (2 if phase == "committed" else 1)
    assert _hidden(lake_dir) == []


@pytest.mark.parametrize("phase", ["temp", "linked"])
def test_start_up_removes_what_a_killed_load_left(crash_url: str, tmp_path: Path, phase: str) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    first, _ = _files(tmp_path)
    _kill_at(phase, crash_url, settings.lake_dir, first)
    if phase == "temp":
        assert _hidden(settings.lake_dir)
    else:  # written, never published: a dead load's rows are never visible, only its temporary files remain
        assert _visible_keys(settings.lake_dir) == [] and _hidden(settings.lake_dir)
    factory = db.make_sessionmaker(db.make_engine(crash_url))
    with TestClient(create_app(settings, factory=factory)):
        assert _visible_keys(settings.lake_dir) == []
        assert _hidden(settings.lake_dir) == []
