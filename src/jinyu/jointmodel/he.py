"""CKKS homomorphic encryption through TenSEAL: each party's key, and masked encrypted gradient pieces.

Layout (chosen by measuring, see docs/joint-modelling.md "Measured"): polynomial degree 4096 (2,048 slots),
coefficient moduli 48/26/35 bits (109 bits, the most degree 4096 allows at 128-bit security), scale equal to the
26-bit prime itself, so the one rescale after a plaintext product divides by exactly the scale and leaves no
systematic error. A batch of up to 4,096 rows is encrypted as ceil(rows / 2048) ciphertexts, zero-padded.

A party never decrypts the other's gradient: per feature column the sender multiplies each encrypted residual
chunk by its own feature values, adds the products of all chunks into one ciphertext, adds a fresh uniform mask
in each slot, and keeps the sum of its masks. The key owner decrypts, sums the slots and returns that sum divided
by the batch size; only the sender, who knows its masks' sum, can recover the gradient entry. The division by the
batch size happens after decryption: a slot holds residual x feature at full size, which CKKS's absolute
precision (about 1e-6 per slot at this scale) serves far better than values 4,096 times smaller.

Keys and the residuals' encryption are TenSEAL's; the masked products and their decryption use SEAL's own bindings
(`tenseal.sealapi`) so a column's chunk products are summed at scale^2 and rescaled once (TenSEAL rescales each);
products travel in SEAL's serialisation. The features cannot be encoded once per job and reused: the batches are
drawn anew every epoch.

`GradientCipher` is the shape both sides program against; `CKKS` is the only implementation in the product (the
benchmark brings others to time the same protocol without encryption, see benchmarks/joint_ciphers.py).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import tenseal as ts
from tenseal import sealapi

from jinyu.jointmodel.errors import ProtocolViolation
from jinyu.jointmodel.rules import Matrix, Vector

POLY_DEGREE = 4096
SLOTS = POLY_DEGREE // 2
COEFF_BITS = [48, 26, 35]
# The scale is the middle prime, so rescaling a product (scale^2) by it gives back exactly the scale.
SCALE = float(sealapi.CoeffModulus.Create(POLY_DEGREE, COEFF_BITS)[1].value())
# Masks are uniform in [-MASK_BOUND, MASK_BOUND] per slot. A slot holds residual x feature: below 1 typically and
# below ~100 at the data's extremes (residual <= ~1.5, standardized features up to ~73), so the mask hides it
# statistically (a value v moves the slot's distribution by |v| / 2^21 in statistical distance). Bound x scale
# (2^46) stays under half the 48-bit prime left after rescaling, so no slot wraps around.
MASK_BOUND = 2.0**20
# The largest batch a job may declare: two ciphertexts of residuals per side and batch. Larger batches would work
# (more chunks) but change the training algorithm's defaults and what the docs promise.
MAX_BATCH = 4096


class GradientCipher(Protocol):
    """What the protocol needs of an encryption scheme: keys, encrypted vectors, masked column products."""

    def new_secret(self) -> Any: ...

    def public_bytes(self, secret: Any) -> bytes: ...

    def load_public(self, data: bytes) -> Any: ...

    def encrypt(self, secret: Any, values: Vector) -> list[bytes]: ...

    def masked_column_products(
        self,
        peer: Any,
        residual_part: list[bytes],
        plain_part: Vector,
        features: Matrix,
        rng: np.random.Generator,
    ) -> tuple[list[bytes], Vector]: ...

    def decrypt_sums(self, secret: Any, blobs: list[bytes], rows: int) -> Vector: ...


def new_secret_context() -> ts.Context:
    context = ts.context(ts.SCHEME_TYPE.CKKS, POLY_DEGREE, coeff_mod_bit_sizes=COEFF_BITS)
    context.global_scale = SCALE
    return context


def public_bytes(context: ts.Context) -> bytes:
    """The context without its secret key (no Galois or relinearization keys are needed): safe to send."""
    public = context.copy()
    public.make_context_public()
    return bytes(public.serialize(save_secret_key=False, save_galois_keys=False, save_relin_keys=False))


def load_context(data: bytes) -> ts.Context:
    """The peer's public context; anything else (garbage, a context with its secret key) is a protocol error."""
    try:
        context = ts.context_from(data)
    except Exception as exc:  # TenSEAL raises bare ValueError/RuntimeError from its C++ parser
        raise ProtocolViolation(
            detail="对方的 CKKS 公钥无法解析 / the peer's CKKS context is unreadable"
        ) from exc
    if context.is_private():
        raise ProtocolViolation(detail="对方发来了私钥 / the peer's context carries its secret key")
    return context


def _load_vector(context: ts.Context, blob: bytes) -> ts.CKKSVector:
    try:
        return ts.ckks_vector_from(context, blob)
    except Exception as exc:  # as above: the C++ parser's errors are not typed
        raise ProtocolViolation(detail="密文无法解析 / a ciphertext is unreadable") from exc


def chunks(values: Vector) -> list[list[float]]:
    """The values zero-padded to whole ciphertexts and cut into SLOTS-long pieces."""
    padded = np.zeros(-(-len(values) // SLOTS) * SLOTS)
    padded[: len(values)] = values
    return [padded[i : i + SLOTS].tolist() for i in range(0, len(padded), SLOTS)]


def encrypt(context: ts.Context, values: Vector) -> list[bytes]:
    return [bytes(ts.ckks_vector(context, chunk).serialize()) for chunk in chunks(values)]


def masked_column_products(
    peer_context: ts.Context,
    residual_part: list[bytes],
    plain_part: Vector,
    features: Matrix,
    rng: np.random.Generator,
) -> tuple[list[bytes], Vector]:
    """Per column j: one ciphertext of sum over chunks of [residual_part + plain_part] * features[:, j], plus a
    mask; and each mask's sum divided by the batch size.

    residual_part is encrypted under the peer's key, one ciphertext per chunk; plain_part is this party's share.
    Works on SEAL's objects directly so that a column's chunk products are summed at scale^2 and rescaled once
    (TenSEAL rescales every product): per column one rescale instead of one per chunk.
    """
    own = chunks(plain_part)
    if len(residual_part) != len(own):
        raise ProtocolViolation(
            detail=f"密文块数不对 / expected {len(own)} residual ciphertexts, got {len(residual_part)}"
        )
    residual = [
        (_load_vector(peer_context, blob) + part).ciphertext()[0]
        for blob, part in zip(residual_part, own, strict=True)
    ]
    seal = _Seal.of(peer_context)
    rows = features.shape[0]
    blobs, mask_sums = [], np.zeros(features.shape[1])
    for j in range(features.shape[1]):
        product = seal.column_product(residual, chunks(features[:, j]))
        mask: Vector = np.asarray(rng.uniform(-MASK_BOUND, MASK_BOUND, SLOTS), dtype=np.float64)
        seal.add_values(product, mask.tolist())
        blobs.append(seal.to_bytes(product))
        mask_sums[j] = mask.sum() / rows
    return blobs, mask_sums


# A masked slot is uniform in [-MASK_BOUND, MASK_BOUND] (plus a value below ~100): three quarters of the slots
# exceed a quarter of the bound. Fewer than half doing so (odds below 1e-100 for masked slots) means no mask.
MASKED_SHARE = 0.5


def decrypt_sums(context: ts.Context, blobs: list[bytes], rows: int) -> Vector:
    """The key owner's part: decrypt each masked product; its slots' sum divided by the batch size.

    The owner decrypts only what this protocol step makes: a two-part ciphertext one rescale below fresh, at
    exactly the scale, whose slots look masked. So the peer cannot have the owner decrypt the owner's own fresh
    residual ciphertexts sent back, nor an unmasked product (e.g. of one row). A peer that deviates with care
    (masking a one-row product itself) is not stopped: see the threat model in docs/joint-modelling.md."""
    seal = _Seal.of(context)
    decryptor = sealapi.Decryptor(seal.context, context.secret_key().data)
    sums = np.zeros(len(blobs))
    for i, blob in enumerate(blobs):
        cipher = seal.from_bytes(blob)
        seal.check_product(cipher)
        plaintext = sealapi.Plaintext()
        decryptor.decrypt(cipher, plaintext)
        slots = np.asarray(seal.encoder.decode_double(plaintext))
        if np.mean(np.abs(slots) > MASK_BOUND / 4) < MASKED_SHARE:
            raise ProtocolViolation(detail="密文未加掩码，拒绝解密 / an unmasked product: not decrypted")
        sums[i] = float(np.sum(slots)) / rows
    return sums


class _Seal:
    """SEAL's encoder and evaluator for one TenSEAL context, and ciphertext bytes through a private scratch file
    (the Python bindings of SEAL save and load ciphertexts only by file name)."""

    def __init__(self, context: ts.Context) -> None:
        self.context = context.seal_context().data
        self.encoder = sealapi.CKKSEncoder(self.context)
        self.evaluator = sealapi.Evaluator(self.context)

    @classmethod
    def of(cls, context: ts.Context) -> _Seal:
        return cls(context)

    def column_product(self, residual: list[Any], column: list[list[float]]) -> Any:
        """Sum over chunks of residual[k] * column[k], rescaled once (the scale is the dropped prime: exact)."""
        total = sealapi.Ciphertext()
        plaintext = sealapi.Plaintext()
        for k, (cipher, values) in enumerate(zip(residual, column, strict=True)):
            self.encoder.encode(values, cipher.parms_id(), cipher.scale, plaintext)
            if k == 0:
                self.evaluator.multiply_plain(cipher, plaintext, total)
            else:
                term = sealapi.Ciphertext()
                self.evaluator.multiply_plain(cipher, plaintext, term)
                self.evaluator.add_inplace(total, term)
        self.evaluator.rescale_to_next_inplace(total)  # Δ² / Δ: the scale comes back exactly
        return total

    def check_product(self, cipher: Any) -> None:
        """A masked column product: two parts, rescaled once from the first data level, at exactly the scale."""
        product_level = self.context.first_context_data().next_context_data().parms_id()
        if cipher.size() != 2 or cipher.parms_id() != product_level or abs(cipher.scale / SCALE - 1) > 1e-9:
            raise ProtocolViolation(
                detail="密文不是本步骤应有的乘积，拒绝解密 / not this step's product ciphertext: not decrypted"
            )

    def add_values(self, cipher: Any, values: list[float]) -> None:
        plaintext = sealapi.Plaintext()
        self.encoder.encode(values, cipher.parms_id(), cipher.scale, plaintext)
        self.evaluator.add_plain_inplace(cipher, plaintext)

    def to_bytes(self, cipher: Any) -> bytes:
        with _scratch() as path:
            cipher.save(str(path))
            return path.read_bytes()

    def from_bytes(self, blob: bytes) -> Any:
        cipher = sealapi.Ciphertext(self.context)
        with _scratch() as path:
            path.write_bytes(blob)
            try:
                cipher.load(self.context, str(path))  # SEAL checks the ciphertext is valid for this context
            except Exception as exc:  # the bindings raise bare ValueError/RuntimeError
                raise ProtocolViolation(detail="密文无法解析 / a ciphertext is unreadable") from exc
        return cipher


_SHM = "/dev/shm" if os.path.isdir("/dev/shm") else None


@contextmanager
def _scratch() -> Iterator[Path]:
    """A fresh file only this user can read (in memory where there is /dev/shm), removed after use; one per call,
    so the host's worker thread and its HTTP thread never share one."""
    handle, name = tempfile.mkstemp(prefix="jinyu-he-", suffix=".bin", dir=_SHM)
    os.close(handle)
    try:
        yield Path(name)
    finally:
        os.unlink(name)


class _Ckks:
    """The module's functions as a `GradientCipher`."""

    def new_secret(self) -> Any:
        return new_secret_context()

    def public_bytes(self, secret: Any) -> bytes:
        return public_bytes(secret)

    def load_public(self, data: bytes) -> Any:
        return load_context(data)

    def encrypt(self, secret: Any, values: Vector) -> list[bytes]:
        return encrypt(secret, values)

    def masked_column_products(
        self,
        peer: Any,
        residual_part: list[bytes],
        plain_part: Vector,
        features: Matrix,
        rng: np.random.Generator,
    ) -> tuple[list[bytes], Vector]:
        return masked_column_products(peer, residual_part, plain_part, features, rng)

    def decrypt_sums(self, secret: Any, blobs: list[bytes], rows: int) -> Vector:
        return decrypt_sums(secret, blobs, rows)


CKKS: GradientCipher = _Ckks()
