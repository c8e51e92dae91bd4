"""The resident index and context kept beside the lake: a check during the build (over the lake), after it
(resident) and in the next process (the kept files read back, nothing built) gives the same answer; a load
makes the kept files stale; damaged or foreign files are not served."""

from __future__ import annotations

import gc
import os
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from jinyu.analytics import DuckDBEngine, Lake, flowfiles
from jinyu.analytics.flowindex import ARRAYS, FlowIndex, FlowIndexes, build
from jinyu.risk.tracing import queries, service
from jinyu.risk.tracing.schemas import TraceParams
from jinyu.risk.tracing.service import kept
from jinyu.risk.tracing.service.base import RESIDENT_SINGLE_METHOD, SINGLE_METHOD
from jinyu.risk.tracing.service.context import ResidentContext, ResidentContexts

from .lake import golden_rows, write
from .test_golden import EXPECTED, _by_kind
from .test_queries import _transfers
from .test_resident import _rows


def _check(root: Path, engine: DuckDBEngine, flows: FlowIndexes, contexts: ResidentContexts, loan_id: str,
           mode: str, policy: str) -> service.Traced:  # fmt: skip
    stores = service.Stores(engine, root, b"k" * 32, flows=flows, contexts=contexts).pinned()
    loan = queries.loan(engine, loan_id, "H1")
    assert loan is not None
    return service.trace_loan(stores, loan, TraceParams(policy=policy), mode, "H1")  # type: ignore[arg-type]


@pytest.mark.parametrize(("loan_id", "mode", "policy"), sorted(EXPECTED)[:6])
def test_a_check_during_the_build_after_it_and_after_a_restart_agree(
    tmp_path: Path, loan_id: str, mode: str, policy: str
) -> None:
    root = tmp_path / "lake"
    write(Lake(root), golden_rows())
    engine = DuckDBEngine(root)
    try:
        flows, contexts = FlowIndexes(), ResidentContexts()
        during = _check(root, engine, flows, contexts, loan_id, mode, policy)  # starts both builds
        assert during.basis.method == SINGLE_METHOD  # the lake answered: the index was not there yet
        assert flows.wait(60) and contexts.wait(60)
        after = _check(root, engine, flows, contexts, loan_id, mode, policy)
        assert after.basis.method == RESIDENT_SINGLE_METHOD
        # The next process: new holders find the kept files and serve at once, no build started.
        flows2, contexts2 = FlowIndexes(), ResidentContexts()
        restarted = _check(root, engine, flows2, contexts2, loan_id, mode, policy)
        assert restarted.basis.method == RESIDENT_SINGLE_METHOD
        assert flows2._thread is None and contexts2._thread is None
        for other in (after, restarted):
            assert other.trace.nodes == during.trace.nodes
            assert other.trace.edges == during.trace.edges
            assert other.related == during.related and other.shells == during.shells
            assert other.refunds == during.refunds
        assert _by_kind(during.trace.nodes) == EXPECTED[(loan_id, mode, policy)]
    finally:
        engine.close()


def _index_dir(root: Path) -> Path:
    """The one version directory kept for the lake's index (its name: a digest of code and transfers)."""
    (only,) = [p for p in flowfiles.files_dir(root).iterdir() if not p.name.startswith(".")]
    return only


def test_kept_index_files_are_the_built_arrays_and_a_load_replaces_them(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    write(Lake(root), _rows(_transfers(3)[:10]))
    flows = FlowIndexes()
    assert flows.get(root) is None
    assert flows.wait(60)
    assert (
        tuple(f.name for f in fields(FlowIndex) if f.name != "build_seconds") == ARRAYS
    )  # mapped() relies on it
    first = _index_dir(root)
    assert sorted(p.name for p in first.iterdir()) == sorted(f"{n}.npy" for n in ARRAYS)
    mapped = FlowIndexes().get(root)
    assert mapped is not None and isinstance(mapped.out_ts, np.memmap)
    fresh = build(root)
    for name in ARRAYS:
        assert np.array_equal(getattr(mapped, name), getattr(fresh, name)), name
    write(Lake(root), _rows(_transfers(3)[10:20]), load_id="L2")
    assert flows.get(root) is None  # a new version: nothing kept for it, a build starts
    assert flows.wait(60)
    second = flows.get(root)
    assert second is not None and second.transfers == 20
    assert not first.exists()  # the old version's files went when the new ones were written
    assert _index_dir(root).is_dir()


def test_damaged_or_foreign_kept_files_are_not_served(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    write(Lake(root), _rows(_transfers(3)[:10]))
    flows = FlowIndexes()
    flows.get(root)
    assert flows.wait(60)
    where = _index_dir(root)
    os.chmod(where, 0o755)  # open to others: not trusted, not read; the build replaces it
    shared = FlowIndexes()
    assert shared.get(root) is None
    assert shared.wait(60)
    assert _index_dir(root).stat().st_mode & 0o077 == 0
    np.save(where / "out_dst.npy", np.zeros(3, dtype=np.int32))  # lengths that do not fit the others
    again = FlowIndexes()
    assert again.get(root) is None  # refused and removed; a build starts
    assert again.wait(60)
    assert again.get(root) is not None and again.get(root).transfers == 10  # type: ignore[union-attr]


def test_a_kept_context_reads_back_as_the_same_tables_and_garbage_is_removed(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    write(Lake(root), golden_rows())
    contexts = ResidentContexts()
    assert contexts.get(root) is None
    assert contexts.wait(60)
    built = contexts.get(root)
    assert isinstance(built, ResidentContext)
    version = service.data_version(root, service.base.LISTED).fingerprint
    read = kept.read(root, version)
    where = flowfiles.version_dir(root, kept.versioned(version), kept.KIND)
    assert read is not None
    for name, value in vars(built.t).items():
        if name == "balances":  # numpy arrays: compared array by array
            for array in ("accounts", "since", "fen"):
                assert np.array_equal(getattr(read.balances, array), getattr(value, array))
        else:
            assert getattr(read, name) == value, name
    assert read.loans and read.account  # not two empty tables
    (where / kept.FILE).write_bytes(b"not a pickle")
    assert kept.read(root, version) is None
    assert not where.exists()


def _walked(tables: object) -> list[str]:
    """The context's containers that full collections would walk (tracked, and not frozen)."""
    walked = {id(o) for o in gc.get_objects()}  # generations 0-2: not the frozen ones
    out = []
    for name, value in vars(tables).items():
        inner = value.values() if isinstance(value, dict) else value if isinstance(value, tuple) else ()
        if id(value) in walked or any(id(v) in walked for v in inner):
            out.append(name)
    return out


def test_a_server_freezes_the_context_once_built_or_read_back(tmp_path: Path) -> None:
    """A server froze its start-up objects (`app.quiet_collector`); the resident context, built or read back
    later, joins them: none of its indexes or row containers is left for full collections to walk (each one
    walked every row of the context, a second-long pause of every thread on the large region). A process that
    froze nothing (a test, a tool) freezes nothing."""
    root = tmp_path / "lake"
    write(Lake(root), golden_rows())
    assert gc.get_freeze_count() == 0
    plain = ResidentContexts()
    plain.get(root)
    assert plain.wait(60)
    built = plain.get(root)
    assert isinstance(built, ResidentContext)
    assert gc.get_freeze_count() == 0
    assert {"loans", "loan_by_id", "accounts_of", "holders"} <= set(_walked(built.t))  # as before freezing
    gc.freeze()  # what app.quiet_collector does at a server's start
    try:
        rebuilt = ResidentContexts()
        (root.parent / f"{root.name}.{kept.KIND}").rename(tmp_path / "moved")  # nothing kept: built anew
        rebuilt.get(root)
        assert rebuilt.wait(60)
        fresh = rebuilt.get(root)
        assert isinstance(fresh, ResidentContext) and fresh.t is not built.t
        assert _walked(fresh.t) == []
        restarted = ResidentContexts()  # the next process: read back from the kept file
        read = restarted.get(root)
        assert isinstance(read, ResidentContext) and restarted._thread is None
        assert read.t.accounts_of == built.t.accounts_of
        assert _walked(read.t) == []
    finally:
        gc.unfreeze()
