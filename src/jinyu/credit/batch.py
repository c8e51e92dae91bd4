"""Batch snapshots of every registered enterprise's card (`jinyu credit snapshot-all`).

The sections come from the bulk statements (bulk.py) as canonical JSON text: Python only hashes them and
inserts the new versions in batches. A batch is committed through `checkpoint` before the next one is built,
so a run killed half-way (even `kill -9`) keeps what it wrote; run again, it finds those cards unchanged by
their content key and writes only the rest: never a second version of the same content.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from jinyu.analytics import Engine
from jinyu.audit import service as audit
from jinyu.core.auth import Principal
from jinyu.credit import bulk, digest, service
from jinyu.credit import repository as repo
from jinyu.credit.rules import CARD_FORMAT, SECTIONS
from jinyu.credit.schemas import SnapshotBatchResult
from jinyu.party import service as party

BATCH_SIZE = 2000
Progress = Callable[[int, int], None]  # (enterprises done, enterprises in all)


def snapshot_all(
    session: Session,
    principal: Principal,
    engine: Engine,
    *,
    batch_size: int = BATCH_SIZE,
    checkpoint: Callable[[], None] | None = None,
    progress: Progress | None = None,
) -> SnapshotBatchResult:
    """Snapshot every registered enterprise's card: new versions for changed cards only, one audit entry.

    `checkpoint` (the CLI passes the session's commit) runs after each inserted batch; `progress` after each
    batch of enterprises looked at, inserted or not."""
    started = time.perf_counter()
    with _no_cycle_collection():
        result = _run(session, principal, engine, batch_size, checkpoint or (lambda: None), progress)
    result.seconds = round(time.perf_counter() - started, 3)
    audit.record(
        session,
        principal,
        action="credit.snapshot.batch",
        subject_type="credit_snapshot",
        detail=result.model_dump(),
    )
    return result


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The batch allocates hundreds of thousands of acyclic strings and dicts: the cyclic collector kept
    re-scanning them. Reference counting frees them as usual; cycles made meanwhile are collected when it is
    re-enabled. Used by the operator's batch only, never inside a request."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run(
    session: Session,
    principal: Principal,
    engine: Engine,
    batch_size: int,
    checkpoint: Callable[[], None],
    progress: Progress | None,
) -> SnapshotBatchResult:
    cards = list(bulk.section_texts(engine))
    orgs = party.enterprises_by_codes(session, [uscc for uscc, _ in cards])
    latest = repo.latest_keys(session)
    result = SnapshotBatchResult(
        enterprises=len(cards), created=0, unchanged=0, skipped_unregistered=0, seconds=0.0
    )
    rows: list[dict[str, Any]] = []
    for done, (uscc, sections) in enumerate(cards, start=1):
        org = orgs.get(uscc)
        if org is None:
            result.skipped_unregistered += 1
        else:
            encoded = {s: t.encode("utf-8") for s, t in zip(SECTIONS, sections, strict=True)}
            key = digest.content_key(encoded)
            last = latest.get(uscc)
            if last is not None and last[1] == key and last[2] == CARD_FORMAT:
                result.unchanged += 1
            else:
                version = (last[0] if last else 0) + 1
                rows.append(encoded_row(uscc, org[0], version, sections, encoded, key, principal))
                result.created += 1
        if len(rows) >= batch_size or done == len(cards) or (progress and done % batch_size == 0):
            if rows:
                repo.insert_encoded_snapshots(session, rows)
                checkpoint()
                rows = []
            if progress:
                progress(done, len(cards))
    return result


def encoded_row(
    uscc: str,
    org_id: str,
    version: int,
    sections: tuple[str, ...],
    encoded: dict[str, bytes],
    key: str,
    principal: Principal,
) -> dict[str, Any]:
    """A snapshot row as the single-card path writes it (service.snapshot_row), its sections as JSON text."""
    row = service.snapshot_row(uscc, org_id, version, {}, encoded, key, principal)
    del row["sections"]
    joined = ",".join(f'"{s}":{t}' for s, t in zip(SECTIONS, sections, strict=True))
    return row | {"sections_json": "{" + joined + "}"}
