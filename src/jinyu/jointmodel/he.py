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

`GradientCipher` is the shape both sides program against; `CKKS` is the only implementation in the product (the
benchmark brings others to time the same protocol without encryption, see benchmarks/joint_ciphers.py).
"""

from __future__ import annotations

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
    """
    own = chunks(plain_part)
    if len(residual_part) != len(own):
        raise ProtocolViolation(
            detail=f"密文块数不对 / expected {len(own)} residual ciphertexts, got {len(residual_part)}"
        )
    residual = [
        _load_vector(peer_context, blob) + part for blob, part in zip(residual_part, own, strict=True)
    ]
    rows = features.shape[0]
    blobs, mask_sums = [], np.zeros(features.shape[1])
    for j in range(features.shape[1]):
        first, *others = [
            chunk * column for chunk, column in zip(residual, chunks(features[:, j]), strict=True)
        ]
        product = first
        for other in others:  # summed before masking: one ciphertext back per column, whatever the batch
            product += other
        mask: Vector = np.asarray(rng.uniform(-MASK_BOUND, MASK_BOUND, SLOTS), dtype=np.float64)
        product += mask.tolist()
        blobs.append(bytes(product.serialize()))
        mask_sums[j] = mask.sum() / rows
    return blobs, mask_sums


def decrypt_sums(context: ts.Context, blobs: list[bytes], rows: int) -> Vector:
    """The key owner's part: decrypt each masked product; its slots' sum divided by the batch size."""
    return np.array([float(np.sum(_load_vector(context, blob).decrypt())) / rows for blob in blobs])


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
