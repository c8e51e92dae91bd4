"""Envelopes, the audit chain, CKKS masked products and PSI, each against an independent expectation."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from jinyu.jointmodel import envelope, he, journal
from jinyu.jointmodel.envelope import Message, NonceBook
from jinyu.jointmodel.errors import (
    AuditChainBroken,
    MessageReplayed,
    ProtocolViolation,
    SignatureRejected,
)
from jinyu.jointmodel.psi import PsiClient, serve


def _pair() -> tuple[object, dict[str, str]]:
    key = envelope.new_key()
    return key, {"bank-a": envelope.public_hex(key)}


def test_a_signed_frame_round_trips_and_any_flipped_byte_is_refused() -> None:
    key, trusted = _pair()
    frame = envelope.encode(Message("forward", "j1", "bank-a", "hub", {"epoch": 1}, [b"abc", b"de"]), key)  # type: ignore[arg-type]
    decoded = envelope.decode(frame, trusted)
    assert decoded.fields == {"epoch": 1} and decoded.blobs == [b"abc", b"de"]
    for position in (20, len(frame) - 1):
        tampered = bytearray(frame)
        tampered[position] ^= 1
        with pytest.raises((SignatureRejected, Exception)):
            envelope.decode(bytes(tampered), trusted)
    with pytest.raises(SignatureRejected):
        envelope.decode(frame, {"bank-a": envelope.public_hex(envelope.new_key())})
    with pytest.raises(SignatureRejected):
        envelope.decode(frame, {})


def test_nonces_are_single_use_and_old_messages_refused(tmp_path: Path) -> None:
    book = NonceBook(tmp_path / "n.txt")
    message = Message("forward", "j1", "bank-a", "hub")
    book.admit(message)
    with pytest.raises(MessageReplayed):
        NonceBook(tmp_path / "n.txt").admit(message)  # a restarted party still remembers
    stale = Message(
        "forward", "j1", "bank-a", "hub", at=(datetime.now(UTC) - timedelta(minutes=6)).isoformat()
    )
    with pytest.raises(MessageReplayed):
        book.admit(stale)


def test_audit_chain_detects_an_edited_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    for n in range(3):
        journal.append_audit(path, "epoch_done", {"epoch": n})
    assert journal.verify_audit(path) == 3
    lines = path.read_text().splitlines()
    edited = json.loads(lines[1])
    edited["data"]["epoch"] = 7
    path.write_text("\n".join([lines[0], json.dumps(edited), lines[2]]) + "\n")
    with pytest.raises(AuditChainBroken, match="line 2"):
        journal.verify_audit(path)


def test_masked_products_sum_to_the_plain_gradient_only_for_the_mask_holder() -> None:
    owner = he.new_secret_context()
    public = he.load_context(he.public_bytes(owner))
    rng = np.random.default_rng(3)
    shared, own = rng.normal(size=300), rng.normal(size=300)
    features = rng.normal(size=(300, 4))
    blobs, mask_sums = he.masked_column_products(public, he.encrypt(owner, shared), own, features, rng)
    sums = he.decrypt_sums(owner, blobs, 300)
    expected = features.T @ (shared + own) / 300
    np.testing.assert_allclose(sums - mask_sums, expected, atol=1e-4)
    assert np.min(np.abs(sums - expected)) > 1.0  # what the key owner sees is masked
    with pytest.raises(ValueError):
        public.secret_key()


@pytest.mark.parametrize("rows", [2048, 3001, 4096])
def test_a_batch_spanning_several_ciphertexts_sums_all_of_its_rows(rows: int) -> None:
    """Rows beyond one ciphertext's 2,048 slots go to further (zero-padded) ciphertexts whose products are summed
    before masking: one ciphertext back per column, and the gradient of every row, checked against numpy."""
    owner = he.new_secret_context()
    public = he.load_context(he.public_bytes(owner))
    rng = np.random.default_rng(rows)
    shared, own = rng.uniform(-1.5, 1.5, rows), rng.normal(size=rows)
    features = rng.normal(scale=3.0, size=(rows, 3))
    features[:3, 0] = 70.0  # the data's extremes still fit under the mask bound without wrapping around
    encrypted = he.encrypt(owner, shared)
    assert len(encrypted) == -(-rows // 2048)
    blobs, mask_sums = he.masked_column_products(public, encrypted, own, features, rng)
    assert len(blobs) == 3
    gradient = he.decrypt_sums(owner, blobs, rows) - mask_sums
    np.testing.assert_allclose(gradient, features.T @ (shared + own) / rows, atol=1e-5)  # CKKS noise ~1e-6
    with pytest.raises(ProtocolViolation):
        he.masked_column_products(
            public, encrypted[:1] if len(encrypted) > 1 else encrypted * 2, own, features, rng
        )


def test_an_unreadable_or_secret_context_or_ciphertext_is_a_protocol_error() -> None:
    owner = he.new_secret_context()
    with pytest.raises(ProtocolViolation, match="unreadable"):
        he.load_context(b"not a context")
    with pytest.raises(ProtocolViolation, match="secret key"):
        he.load_context(bytes(owner.serialize(save_secret_key=True)))
    public = he.load_context(he.public_bytes(owner))
    with pytest.raises(ProtocolViolation, match="ciphertext"):
        he.masked_column_products(public, [b"junk"], np.zeros(10), np.ones((10, 2)), np.random.default_rng(1))
    with pytest.raises(ProtocolViolation, match="ciphertext"):
        he.decrypt_sums(owner, [b"junk"], 10)
    pieces, _ = he.masked_column_products(
        public, he.encrypt(owner, np.ones(10)), np.zeros(10), np.ones((10, 2)), np.random.default_rng(1)
    )
    with pytest.raises(ProtocolViolation, match="ciphertext"):  # a cut-off product
        he.decrypt_sums(owner, [pieces[0][: len(pieces[0]) // 2]], 10)


def test_ciphertext_bytes_leave_no_scratch_file_behind() -> None:
    """SEAL's bindings save and load only through files: each one is removed after use, also on a bad blob."""
    scratch = Path(he._SHM or tempfile.gettempdir())
    before = set(scratch.glob("jinyu-he-*"))
    owner = he.new_secret_context()
    public = he.load_context(he.public_bytes(owner))
    rng = np.random.default_rng(5)
    features = np.tile([1.0, 2.0, -3.0], (50, 1))
    pieces, mask_sums = he.masked_column_products(
        public, he.encrypt(owner, np.ones(50)), np.ones(50), features, rng
    )
    # residual 1 + 1 in every row: the mean of 2 x feature is 2, 4 and -6
    np.testing.assert_allclose(he.decrypt_sums(owner, pieces, 50) - mask_sums, [2.0, 4.0, -6.0], atol=1e-4)
    with pytest.raises(ProtocolViolation):
        he.decrypt_sums(owner, [b"junk"], 50)
    assert set(scratch.glob("jinyu-he-*")) == before


def test_psi_intersection_and_size() -> None:
    guest = ["a", "b", "c", "d"]
    client = PsiClient(guest, reveal_intersection=True)
    setup, response = serve(["c", "a", "x"], client.request(), True)
    assert client.intersection(setup, response) == ["a", "c"]
    counter = PsiClient(guest, reveal_intersection=False)
    setup, response = serve(["c", "a", "x"], counter.request(), False)
    assert counter.size(setup, response) == 2


def test_the_key_owner_decrypts_only_masked_products() -> None:
    """The peer cannot have the owner decrypt its own fresh residual (sent back in SEAL's format), or an unmasked
    product (one row's residual picked out by a one-hot feature column)."""
    owner = he.new_secret_context()
    public = he.load_context(he.public_bytes(owner))
    rng = np.random.default_rng(8)
    residual = he.encrypt(owner, rng.normal(size=40))
    seal = he._Seal.of(public)
    fresh = he._load_vector(public, residual[0]).ciphertext()[0]
    with pytest.raises(ProtocolViolation, match="not this step's product"):
        he.decrypt_sums(owner, [seal.to_bytes(fresh)], 40)  # echoed back: fresh level, not a product
    one_hot = np.zeros(40)
    one_hot[7] = 1.0
    unmasked = seal.column_product([fresh], he.chunks(one_hot))
    with pytest.raises(ProtocolViolation, match="unmasked"):
        he.decrypt_sums(owner, [seal.to_bytes(unmasked)], 40)
    masked, _ = he.masked_column_products(public, residual, np.zeros(40), one_hot[:, None], rng)
    assert len(he.decrypt_sums(owner, masked, 40)) == 1  # what the protocol makes still decrypts
