"""Signed checkpoints on a real database (SQLite and PostgreSQL): the tail-cut attack that the hash chain alone
cannot see, rewrites, tampered checkpoint files, wrong keys, and the background checkpointer with the sealer."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import checkpointing, service
from jinyu.audit.anchor import Anchors
from jinyu.audit.errors import CheckpointRefused
from jinyu.audit.models import AuditEntry, AuditHead
from jinyu.audit.rules import Problem, VerifyResult
from jinyu.audit.sealer import Checkpointer, Sealer
from jinyu.core import db
from jinyu.core.auth import OrgKind, Role
from tests.audit.factories import principal

SUPERVISOR = principal("supervisor")
BANKER = principal(
    "banker", role=Role.BANK_HQ_RISK, org_kind=OrgKind.BANK_HEAD_OFFICE, org_id="org-b", tenant_id="t-b"
)


@pytest.fixture
def anchors(tmp_path: Path) -> Anchors:
    return Anchors(sink=tmp_path / "audit" / "checkpoints.jsonl", key_path=tmp_path / "keys" / "cp.pem")


def _append(session: Session, n: int) -> None:
    for i in range(n):
        service.record(
            session, BANKER, action="party.org.read", subject_type="organisation", subject_ids=[f"o{i}"]
        )


def _verify(session: Session, anchors: Anchors | None) -> VerifyResult:
    return service.verify(session, SUPERVISOR, anchors=anchors)


def _cut_tail(session: Session, keep: int) -> None:
    """The attack: delete the newest entries and move the head back onto the last one kept."""
    kept_hash = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == keep))
    session.execute(delete(AuditEntry).where(AuditEntry.seq > keep))
    session.execute(text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": keep, "h": kept_hash})


def _lines(anchors: Anchors) -> list[dict[str, Any]]:
    return [json.loads(line) for line in anchors.sink.read_text().splitlines()]


# ---------------------------------------------------------------------------------------------- the attack


def test_cutting_the_tail_and_the_head_passes_the_chain_but_not_the_checkpoint(
    session: Session, anchors: Anchors
) -> None:
    _append(session, 5)
    cp = checkpointing.write_checkpoint(session, anchors)
    assert cp is not None and (cp.n, cp.seq) == (1, 5)

    _cut_tail(session, keep=3)

    result = _verify(session, anchors)
    assert (result.ok, result.problem, result.first_bad_seq) == (False, Problem.CHECKPOINT, 4)
    assert "shorter than signed checkpoint #1" in result.message and "seq 5" in result.message
    assert result.checkpoint is not None and result.checkpoint.seq == 5
    recorded = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert (recorded.seq, recorded.action, recorded.outcome) == (4, "audit.verify", "failed")
    assert _verify(session, None).ok  # the hash chain alone: what `verify` said before checkpoints


def test_a_tail_rewritten_past_the_checkpoint_differs_from_it(session: Session, anchors: Anchors) -> None:
    _append(session, 5)
    checkpointing.write_checkpoint(session, anchors)
    _cut_tail(session, keep=3)
    _append(session, 4)  # new, validly chained entries 4..7 where the real 4..5 were

    result = _verify(session, anchors)
    assert (result.problem, result.first_bad_seq) == (Problem.CHECKPOINT, 5)
    assert "entry seq 5 differs from signed checkpoint #1" in result.message
    assert _verify(session, None).ok


def test_an_untouched_chain_passes_through_its_last_checkpoint(session: Session, anchors: Anchors) -> None:
    assert _verify(session, anchors).ok  # no checkpoint yet, nothing recorded yet
    _append(session, 3)
    checkpointing.write_checkpoint(session, anchors)
    _append(session, 2)
    checkpointing.write_checkpoint(session, anchors)
    _append(session, 2)

    result = _verify(session, anchors)

    assert result.ok and result.checkpoint is not None
    assert (result.checkpoint.n, result.checkpoint.seq) == (2, 6)  # 5 entries + the first verify
    assert "matches checkpoint #2" in result.message
    assert [line["n"] for line in _lines(anchors)] == [1, 2]


def test_a_tampered_checkpoint_line_fails_verify(session: Session, anchors: Anchors) -> None:
    _append(session, 5)
    checkpointing.write_checkpoint(session, anchors)
    lines = anchors.sink.read_text().splitlines()
    # The attacker lowers the pinned seq to match a cut chain, keeping everything else.
    anchors.sink.write_text(lines[0].replace('"seq":5', '"seq":3') + "\n")
    _cut_tail(session, keep=3)

    result = _verify(session, anchors)

    assert result.problem is Problem.CHECKPOINT
    assert "checkpoint #1 (line 1)" in result.message and "signature invalid" in result.message


def test_a_removed_checkpoint_line_fails_verify(session: Session, anchors: Anchors) -> None:
    _append(session, 2)
    for _ in range(3):
        checkpointing.write_checkpoint(session, anchors)
    lines = anchors.sink.read_text().splitlines()
    anchors.sink.write_text(lines[0] + "\n" + lines[2] + "\n")

    result = _verify(session, anchors)

    assert result.problem is Problem.CHECKPOINT and "out of sequence, expected #2" in result.message


def test_a_wrong_key_fails_verify(session: Session, anchors: Anchors, tmp_path: Path) -> None:
    _append(session, 3)
    checkpointing.write_checkpoint(session, anchors)
    other = Ed25519PrivateKey.generate()

    # the signing key file replaced (verify derives the public key from it)
    anchors.key_path.write_bytes(other.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    result = _verify(session, anchors)
    assert result.problem is Problem.CHECKPOINT and "signed by another key" in result.message

    # a verifier pinned to another public key
    public = tmp_path / "other.pub.pem"
    public.write_bytes(other.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    pinned = Anchors(sink=anchors.sink, key_path=tmp_path / "absent.pem", public_key_path=public)
    assert "signed by another key" in _verify(session, pinned).message


def test_a_verifier_with_the_public_key_alone(session: Session, anchors: Anchors, tmp_path: Path) -> None:
    _append(session, 3)
    checkpointing.write_checkpoint(session, anchors)
    public = tmp_path / "cp.pub.pem"
    public.write_text(anchors.public_pem())
    verifier = Anchors(sink=anchors.sink, key_path=tmp_path / "absent.pem", public_key_path=public)

    assert _verify(session, verifier).ok
    assert not (tmp_path / "absent.pem").exists()  # verifying never creates a private key


def test_the_key_file_is_private(session: Session, anchors: Anchors) -> None:
    _append(session, 1)
    checkpointing.write_checkpoint(session, anchors)
    assert anchors.key_path.stat().st_mode & 0o777 == 0o600
    assert anchors.key_path.parent.stat().st_mode & 0o777 == 0o700
    assert anchors.sink.stat().st_mode & 0o777 == 0o600


# ---------------------------------------------------------------------------------------------- writing


def test_a_checkpoint_never_signs_a_cut_or_broken_chain(session: Session, anchors: Anchors) -> None:
    _append(session, 5)
    checkpointing.write_checkpoint(session, anchors)
    _cut_tail(session, keep=3)

    with pytest.raises(CheckpointRefused, match="shorter than signed checkpoint #1"):
        checkpointing.write_checkpoint(session, anchors)

    _append(session, 4)
    with pytest.raises(CheckpointRefused, match="differs from signed checkpoint #1"):
        checkpointing.write_checkpoint(session, anchors)
    assert len(_lines(anchors)) == 1


def test_a_checkpoint_checks_the_entries_since_the_last_one(session: Session, anchors: Anchors) -> None:
    _append(session, 3)
    checkpointing.write_checkpoint(session, anchors)
    _append(session, 3)
    session.execute(text("UPDATE audit_entries SET subject_ids = '[\"x\"]' WHERE seq = 5"))

    with pytest.raises(CheckpointRefused, match="seq 5 was changed"):
        checkpointing.write_checkpoint(session, anchors)


def test_no_checkpoint_of_an_empty_trail(session: Session, anchors: Anchors) -> None:
    with pytest.raises(CheckpointRefused, match="the trail is empty"):
        checkpointing.write_checkpoint(session, anchors)


def test_checkpoint_on_demand_is_audited(session: Session, anchors: Anchors) -> None:
    _append(session, 2)
    cp = checkpointing.checkpoint(session, SUPERVISOR, anchors)

    last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert (last.seq, last.action) == (3, "audit.checkpoint")
    assert json.loads(last.detail or "{}")["seq"] == cp.seq == 2
    items, check = checkpointing.list_checkpoints(session, SUPERVISOR, anchors, limit=10)
    assert [c.n for c in items] == [1] and check.ok and check.count == 1


# ---------------------------------------------------------------------------------------------- in the background


@pytest.fixture
def committed(db_engine: Engine) -> Iterator[tuple[sessionmaker[Session], Engine]]:
    engine = db.make_engine(db_engine.url.render_as_string(hide_password=False))
    factory = db.make_sessionmaker(engine)
    with db.transaction(factory) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0, "expects an empty committed trail"
    try:
        yield factory, engine
    finally:
        service.journal_for(engine, False)
        with db.transaction(factory) as s:
            s.execute(delete(AuditEntry))
            s.execute(delete(AuditHead))
        engine.dispose()


def _record(factory: sessionmaker[Session], n: int) -> None:
    with db.transaction(factory) as s:
        _append(s, n)


def test_the_checkpointer_writes_every_n_entries(
    committed: tuple[sessionmaker[Session], Engine], anchors: Anchors
) -> None:
    factory, _ = committed
    checkpointer = Checkpointer(factory, anchors, every=3, seconds=0)

    _record(factory, 2)
    assert checkpointer.run_once() == 0
    _record(factory, 1)
    assert checkpointer.run_once() == 1
    _record(factory, 4)
    assert checkpointer.run_once() == 1
    _record(factory, 1)
    checkpointer.stop()  # never started: stopping pins what is new

    assert [(line["n"], line["seq"]) for line in _lines(anchors)] == [(1, 3), (2, 7), (3, 8)]
    with db.transaction(factory) as s:
        assert _verify(s, anchors).ok


def test_sealed_batches_wake_the_checkpointer_only_once_they_could_make_one_due(
    committed: tuple[sessionmaker[Session], Engine], anchors: Anchors
) -> None:
    """Issue 20: a wake per sealed batch cost a transaction and a signature check each time under load."""
    factory, _ = committed
    checkpointer = Checkpointer(factory, anchors, every=10, seconds=0)
    woken = checkpointer._wake  # the thread's event: set means it looks at the chain now

    checkpointer.sealed(4)
    checkpointer.sealed(5)
    assert not woken.is_set()
    checkpointer.sealed(1)
    assert woken.is_set()

    woken.clear()
    # nothing recorded: the look finds nothing due, and starts a new count
    assert checkpointer.run_once() == 0
    checkpointer.sealed(9)
    assert not woken.is_set()


def test_the_sealer_and_checkpointer_anchor_journaled_entries(
    committed: tuple[sessionmaker[Session], Engine], anchors: Anchors
) -> None:
    factory, engine = committed
    sealer = Sealer(factory, engine, interval=0.05)
    sealer.checkpointer = checkpointer = Checkpointer(factory, anchors, every=5, seconds=0, poll=0.05)
    sealer.start()
    checkpointer.start()
    try:
        _record(factory, 12)
        deadline = time.monotonic() + 30
        while checkpointer.written == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpointer.written >= 1  # the thread wrote one, not only the stop below
    finally:
        sealer.stop()
        checkpointer.stop()

    last = _lines(anchors)[-1]
    assert last["seq"] == 12
    with db.transaction(factory) as s:
        assert s.scalar(select(AuditEntry.hash).where(AuditEntry.seq == 12)) == last["hash"]
        assert _verify(s, anchors).ok


def test_the_attack_on_committed_data_fails_verify_in_a_fresh_transaction(
    committed: tuple[sessionmaker[Session], Engine], anchors: Anchors
) -> None:
    """Sessions on an engine re-read what is committed before calling a chain short: the cut still shows."""
    factory, _ = committed
    _record(factory, 5)
    with db.transaction(factory) as s:
        checkpointing.write_checkpoint(s, anchors)
    with db.transaction(factory) as s:
        assert _verify(s, anchors).ok
        _cut_tail(s, keep=3)

    with db.transaction(factory) as s:
        result = _verify(s, anchors)
    assert (result.problem, result.first_bad_seq) == (Problem.CHECKPOINT, 4)


def test_an_unreadable_checkpoint_file_fails_verify_readably(session: Session, anchors: Anchors) -> None:
    _append(session, 2)
    checkpointing.write_checkpoint(session, anchors)
    anchors.sink.write_bytes(b"\xff\xfe garbage\n")
    result = _verify(session, anchors)
    assert result.problem is Problem.CHECKPOINT and "line 1" in result.message

    anchors.sink.unlink()
    anchors.sink.mkdir()  # a directory where the file should be: the read fails
    result = _verify(session, anchors)
    assert result.problem is Problem.CHECKPOINT and "cannot read the signed checkpoint file" in result.message
