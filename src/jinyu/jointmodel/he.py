"""CKKS homomorphic encryption through TenSEAL: each party's key, and masked encrypted gradient pieces.

Parameters: polynomial degree 8192 (4,096 slots), coefficient moduli 60/40/60 bits, scale 2^40: one plaintext
multiplication deep, which is all the protocol needs, at about 1e-6 absolute error per slot.

A party never decrypts the other's gradient: the sender multiplies the encrypted residual by its own feature
column, adds a fresh uniform mask in each slot, and keeps the column sum of its masks. The key owner decrypts,
sums the slots and returns that sum; only the sender, who knows the mask sum, can recover the gradient entry.
"""

from __future__ import annotations

import numpy as np
import tenseal as ts

from jinyu.jointmodel.rules import Matrix, Vector

POLY_DEGREE = 8192
SLOTS = POLY_DEGREE // 2
COEFF_BITS = [60, 40, 60]
SCALE = 2.0**40
# Masks are uniform in [-MASK_BOUND, MASK_BOUND] per slot; a slot's true value is below 1e-2 in practice
# (residual <= ~1.5 times a standardized feature, divided by the batch size), so a mask hides it statistically.
MASK_BOUND = 100.0


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
    return ts.context_from(data)


def encrypt(context: ts.Context, values: Vector) -> bytes:
    return bytes(ts.ckks_vector(context, values.tolist()).serialize())


def masked_column_products(
    peer_context: ts.Context,
    residual_part: bytes,
    plain_part: Vector,
    features: Matrix,
    rng: np.random.Generator,
) -> tuple[list[bytes], Vector]:
    """Encrypted [residual_part + plain_part] * features[:, j] / b + mask_j for every column j, and the masks' sums.

    residual_part is encrypted under the peer's key; plain_part is this party's own share of the residual.
    """
    residual = ts.ckks_vector_from(peer_context, residual_part) + plain_part.tolist()
    batch = features.shape[0]
    blobs, mask_sums = [], np.zeros(features.shape[1])
    for j in range(features.shape[1]):
        mask: Vector = np.asarray(rng.uniform(-MASK_BOUND, MASK_BOUND, batch), dtype=np.float64)
        product = residual * (features[:, j] / batch).tolist() + mask.tolist()
        blobs.append(bytes(product.serialize()))
        mask_sums[j] = mask.sum()
    return blobs, mask_sums


def decrypt_sums(context: ts.Context, blobs: list[bytes]) -> Vector:
    """The key owner's part: decrypt each masked product and return the sum of its slots."""
    return np.array([float(np.sum(ts.ckks_vector_from(context, blob).decrypt())) for blob in blobs])
