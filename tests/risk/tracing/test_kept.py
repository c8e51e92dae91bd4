"""The resident index and context kept beside the lake: a check during the build (over the lake), after it
(resident) and in the next process (the kept files read back, nothing built) gives the same answer; a load
makes the kept files stale; damaged or foreign files are not served."""

from __future__ import annotations

import gc
import hashlib
import os
import subprocess
import sys
import threading
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from jinyu.analytics import DuckDBEngine, Lake, builds, flowfiles, flowindex
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
    assert sorted(p.name for p in first.iterdir()) == sorted(
        [*(f"{n}.npy" for n in ARRAYS), flowfiles.MANIFEST]
    )
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


def _kept_context(tmp_path: Path) -> tuple[Path, str, ResidentContext, Path]:
    root = tmp_path / "lake"
    write(Lake(root), golden_rows())
    contexts = ResidentContexts()
    contexts.get(root)
    assert contexts.wait(60)
    built = contexts.get(root)
    assert isinstance(built, ResidentContext)
    version = service.data_version(root, service.base.LISTED).fingerprint
    where = flowfiles.version_dir(root, kept.versioned(version), kept.KIND)
    return root, version, built, where / kept.FILE


def _tampered(data: bytes, how: str) -> bytes:
    """The kept file's bytes spoiled one way; its layout as written out here, not by `kept`: a format line,
    the SHA-256 of the version, the SHA-256 of the pickle, the pickle."""
    head = len(b"jinyu tracing-context 1\n")
    if how == "truncated":
        return data[: len(data) - 1000]
    if how == "flipped":  # one bit of the pickle
        at = head + 64 + (len(data) - head - 64) // 2
        return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]
    if how == "other version":  # a whole, valid file of another version copied here
        return data[:head] + hashlib.sha256(b"another version").digest() + data[head + 32 :]
    if how == "bare pickle":  # the format before the header (a file an older release left)
        return data[head + 64 :]
    assert how == "other format"
    return b"jinyu tracing-context 2\n" + data[head:]


@pytest.mark.parametrize("how", ["truncated", "flipped", "other version", "bare pickle", "other format"])
def test_a_damaged_or_foreign_context_file_is_never_unpickled_and_is_rebuilt(
    tmp_path: Path, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, version, built, path = _kept_context(tmp_path)
    data = path.read_bytes()
    payload = data[len(b"jinyu tracing-context 1\n") + 64 :]
    assert data[len(b"jinyu tracing-context 1\n") + 32 : len(b"jinyu tracing-context 1\n") + 64] == (
        hashlib.sha256(payload).digest()
    )
    path.write_bytes(_tampered(data, how))
    unpickled: list[int] = []
    real = kept.pickle.loads
    monkeypatch.setattr(kept.pickle, "loads", lambda b: unpickled.append(1) or real(b))
    assert kept.read(root, version) is None
    assert unpickled == []  # refused by the header, before anything was unpickled
    assert not path.parent.exists()  # removed
    again = ResidentContexts()
    assert again.get(root) is None  # nothing to read back: built again
    assert again.wait(60)
    rebuilt = again.get(root)
    assert rebuilt is not None and rebuilt.t.loans == built.t.loans
    assert kept.read(root, version) is not None  # and kept whole again


_WORKER = """
import sys, time
from pathlib import Path
import numpy as np
from jinyu.analytics import flowindex
from jinyu.risk.tracing.service import context

root, me, other = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
built = []

def slow(real, what):
    def run(*args, **kwargs):
        built.append(what)
        time.sleep(1.0)  # both workers are inside get() by now: without the lock both would build
        return real(*args, **kwargs)
    return run

flowindex.build = slow(flowindex.build, "index")
context.load = slow(context.load, "context")
me.touch()
while not other.exists():  # start together, as two workers after a load
    time.sleep(0.01)
flows, contexts = flowindex.FlowIndexes(), context.ResidentContexts()
flows.get(root), contexts.get(root)
assert flows.wait(120) and contexts.wait(120)
index, ctx = flows.get(root), contexts.get(root)
assert index is not None and ctx is not None and index.transfers > 0 and ctx.t.loans
print(" ".join(built) or "-", isinstance(index.out_ts, np.memmap))
"""


def test_two_workers_starting_together_build_each_piece_once_and_the_other_reads_it(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    write(Lake(root), golden_rows())
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    flags = [tmp_path / "a.ready", tmp_path / "b.ready"]
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(root), str(me), str(other)], stdout=subprocess.PIPE, text=True
        )
        for me, other in (flags, flags[::-1])
    ]
    outputs = [w.communicate(timeout=300)[0].split() for w in workers]
    assert [w.returncode for w in workers] == [0, 0]
    built = sorted(word for out in outputs for word in out[:-1] if word != "-")
    assert built == ["context", "index"]  # once each, in one worker or the other
    for out in outputs:  # the worker that did not build the index mapped the one the other kept
        assert out[-1] == ("False" if "index" in out[:-1] else "True"), outputs


def test_building_waits_for_the_lock_then_maps_what_the_holder_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "lake"
    write(Lake(root), _rows(_transfers(3)[:10]))
    calls: list[int] = []
    real = build
    monkeypatch.setattr(flowindex, "build", lambda *a, **k: calls.append(1) or real(*a, **k))
    with flowfiles.building(root, "flowindex") as held:  # another process is building
        assert held
        flows = FlowIndexes()
        assert flows.get(root) is None
        assert not flows.wait(0.5)  # its build thread waits for the lock
        flowfiles.save_arrays(
            root, flowindex._kept_version(flowindex.transfers_version(root)), real(root).arrays()
        )
    assert flows.wait(60)
    index = flows.get(root)
    assert index is not None and isinstance(index.out_ts, np.memmap) and index.transfers == 10
    assert calls == []  # it mapped the holder's files, built nothing


class _Blocking:
    """Stands for a DuckDB statement: runs until interrupted."""

    def __init__(self) -> None:
        self.stopped = threading.Event()

    def interrupt(self) -> None:
        self.stopped.set()


def test_stopping_builds_interrupts_them_and_waits_for_their_threads() -> None:
    statement = _Blocking()
    after: list[str] = []

    def target(run: builds.Build) -> None:
        run.attach(statement)
        assert statement.stopped.wait(60)
        try:
            run.check()
        except builds.Cancelled:
            after.append("cancelled")

    started = builds.start("test-build", target)
    assert started in builds.running()
    assert builds.stop_all(60)
    assert started.thread is not None and not started.thread.is_alive()
    assert after == ["cancelled"] and started not in builds.running()


def test_a_cancelled_index_build_stops_and_an_interrupted_engine_refuses_statements(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    write(Lake(root), golden_rows())
    run = builds.Build("cancelled")
    run.cancel()
    with pytest.raises(builds.Cancelled):
        build(root, cancel=run)
    engine = DuckDBEngine(root)
    try:
        engine.interrupt()
        with pytest.raises(builds.Cancelled):
            queries.loan(engine, "L1", "H1")
    finally:
        engine.close()


def test_a_process_exiting_while_both_builds_run_exits_cleanly(tmp_path: Path) -> None:
    """A CLI command that started the builds exits at once: the exit cancels them (no abort, exit code 0)."""
    root = tmp_path / "lake"
    write(Lake(root), golden_rows())
    script = (
        "import sys\nfrom pathlib import Path\nfrom jinyu.analytics.flowindex import shared_indexes\n"
        "from jinyu.risk.tracing.service.context import shared_contexts\n"
        "shared_indexes().get(Path(sys.argv[1])); shared_contexts().get(Path(sys.argv[1]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(root)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_once_exiting_no_build_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[int] = []
    assert (
        builds.start("before-exit", lambda _run: ran.append(1)).thread is not None
    )  # stop_all above: not final
    exiting = threading.Event()
    exiting.set()
    monkeypatch.setattr(builds, "_exiting", exiting)  # as after the atexit `stop_all(final=True)`
    late = builds.start("after-exit", lambda _run: ran.append(2))
    assert late.thread is None and late.cancelled and builds.exiting()
    assert ran in ([1], [])  # the first may still be starting; the second never runs
    assert 2 not in ran


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
