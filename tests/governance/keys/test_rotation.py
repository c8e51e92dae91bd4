"""A key rotation on a small region: traces, a statement verification and token joins read the same after it
(pre-rotation results with their tokens carried forward), a dry run changes nothing, and a crash mid-way
leaves the lake as readers saw it until a re-run completes the rotation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry
from jinyu.core.auth import SYSTEM, Role
from jinyu.core.errors import Conflict
from jinyu.core.privacy import PERSON_DOMAIN, pseudonymize, token_version
from jinyu.governance.keys import lakefiles, service
from jinyu.ingest import service as ingest
from jinyu.models import metadata
from jinyu.party.models import Organisation
from jinyu.party.schemas import RegistrationSubmit
from jinyu.party.service import registration
from tests.fixtures.auth import principal

from .region import RAW_REP, Region, build, forward, results, token_joins, tokens_in


@pytest.fixture
def region(session: Session, tmp_path: Path) -> Region:
    return build(session, tmp_path)


def _stores(region: Region) -> service.Stores:
    return service.Stores(region.lake_root, region.keys_dir, region.ring, metadata)


def _lake_bytes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
        if not p.name.startswith((".", "_"))
    }


def _versions(value: Any) -> set[int]:
    found: set[int] = set()
    tokens_in(value, lambda t: found.add(token_version(t) or 0))
    return found


def _rotate(session: Session, region: Region) -> service.RotationOut:
    out = service.rotate(session, SYSTEM, _stores(region))
    service.activate(_stores(region))
    return out


def test_rotation_keeps_every_result_and_issues_only_new_tokens(session: Session, region: Region) -> None:
    before = results(session, region)
    assert _versions(before) == {1} and len(before["joins"]) >= 3  # the comparison has tokens to carry
    out = _rotate(session, region)
    ring = region.ring()
    assert (out.from_version, out.to_version, ring.current, ring.pending) == (1, 2, 2, None)
    after = results(session, region)
    assert after == forward(before, ring, 2)
    assert after != before and _versions(after) == {2}
    # Fresh tokens (new ingests, registrations) are version 2 only, and match the rewritten ones.
    assert pseudonymize(ring, RAW_REP, PERSON_DOMAIN).startswith("pt_v2_")
    org = session.get(Organisation, region.enterprise.id)
    assert org is not None and org.legal_rep_token == pseudonymize(ring, RAW_REP, PERSON_DOMAIN)
    admin = principal(session, region.enterprise, Role.ENTERPRISE_ADMIN)
    submitted = RegistrationSubmit(legal_rep_id=SecretStr(RAW_REP), legal_rep_name="王五")
    assert registration.submit_registration(session, admin, submitted, ring).state == "verified"
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "keys.rotate")).all()
    detail = json.loads(entry.detail or "{}")
    assert (detail["from_version"], detail["to_version"], entry.actor_id) == (1, 2, "system")


def test_every_stored_token_is_rewritten(session: Session, region: Region) -> None:
    _rotate(session, region)
    joins = token_joins(region.lake_root)
    assert joins and all(token_version(str(v)) in (None, 2) for row in joins for v in row)
    for dataset, columns in lakefiles.token_columns().items():
        for path in (region.lake_root / dataset).rglob("*.parquet"):
            table = pq.read_table(path, columns=[c for c in columns if c in pq.read_schema(path).names])
            assert _versions(table.to_pylist()) <= {2, 0}, path


def test_a_second_rotation_chains_on(session: Session, region: Region) -> None:
    before = results(session, region)
    _rotate(session, region)
    _rotate(session, region)
    ring = region.ring()
    assert ring.current == 3 and results(session, region) == forward(before, ring, 3)


def test_dry_run_changes_nothing(session: Session, region: Region) -> None:
    files = _lake_bytes(region.lake_root)
    plan = service.plan(session, SYSTEM, _stores(region))
    assert _lake_bytes(region.lake_root) == files and list(region.keys_dir.iterdir()) == []
    assert (plan.from_version, plan.to_version, plan.dry_run) == (1, 2, True)
    # enterprises, shareholders, loan_guarantees, accounts (the golden and the statement loads)
    with_tokens = [f for f in files if f.split("/")[0] in lakefiles.token_columns()]
    assert plan.lake_files == len(with_tokens) == 5
    assert plan.store_rows["organisations.legal_rep_token"] == 1 and plan.estimated_seconds >= 0
    assert region.ring().current == 1


def test_a_crash_while_staging_leaves_the_lake_as_it_was_and_a_rerun_completes(
    session: Session, region: Region, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, files = results(session, region), _lake_bytes(region.lake_root)
    real, calls = lakefiles.stage, []

    def crash_after_two(*args: Any) -> Path:
        if len(calls) == 2:
            raise RuntimeError("killed")
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(lakefiles, "stage", crash_after_two)
    with pytest.raises(RuntimeError):
        service.rotate(session, SYSTEM, _stores(region))
    ring = region.ring()
    assert (ring.current, ring.pending) == (1, 2)
    assert _lake_bytes(region.lake_root) == files  # staged copies are hidden; nothing swapped
    assert results(session, region) == before
    with pytest.raises(Conflict):
        ingest._refuse_during_rotation(ring)  # loads wait for the rotation
    monkeypatch.setattr(lakefiles, "stage", real)
    staged_again: list[Path] = []
    monkeypatch.setattr(lakefiles, "stage", lambda *a: staged_again.append(a[0].path) or real(*a))
    out = _rotate(session, region)
    assert len(staged_again) == out.lake_files - 2  # the two finished copies were kept
    assert results(session, region) == forward(before, region.ring(), 2)
    assert not list(region.lake_root.rglob(".rot-*")) and not list(region.keys_dir.glob("rotation-v*.json"))


def test_a_crash_while_swapping_is_completed_by_a_rerun(
    session: Session, region: Region, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = results(session, region)
    real = lakefiles.swap

    def swap_one_then_crash(root: Path, target: int) -> int:
        temp, original = next(iter(lakefiles.staged_files(root, target)))
        temp.replace(original)
        raise RuntimeError("killed")

    monkeypatch.setattr(lakefiles, "swap", swap_one_then_crash)
    with pytest.raises(RuntimeError):
        service.rotate(session, SYSTEM, _stores(region))
    monkeypatch.setattr(lakefiles, "swap", real)
    _rotate(session, region)
    assert results(session, region) == forward(before, region.ring(), 2)
