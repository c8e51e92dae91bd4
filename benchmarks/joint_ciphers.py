"""Benchmark-only ciphers for the joint protocol: none (plaintext), and the first CKKS layout, for comparison.

`PlainCipher` has the shape of `jinyu.jointmodel.he.GradientCipher` but "encrypts" a vector as its raw float64
bytes. Everything else of the protocol is unchanged: the same two processes, the same signed and captured frames
in the same order, the same masks added per slot and summed by the other side. So a plaintext epoch minus an
encrypted epoch is the cost of CKKS alone. It reveals residuals and features to the peer and lives here, outside
the package, so no CLI command or job can reach it.

`FirstCkks` is the CKKS layout the package used before (degree 8192, moduli 60/40/60, one ciphertext per column
and batch, masks of +-100 on products divided by the batch size), kept so a run can time it against the current one.

Run as a host (what bench_joint.py does):  python -m benchmarks.joint_ciphers --dir HUB_DIR --cipher plain
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import tenseal as ts

from jinyu.jointmodel.he import MASK_BOUND
from jinyu.jointmodel.party import PartyDir
from jinyu.jointmodel.rules import Matrix, Vector
from jinyu.jointmodel.server import make_server

_KEY = b"plaintext-benchmark-only"
_FIRST_MASK_BOUND = 100.0


def _vector(blob: bytes) -> Vector:
    return np.frombuffer(blob, dtype=np.float64).copy()


class PlainCipher:
    """Same calls and message shapes as the CKKS cipher, no encryption (one float64 blob per vector)."""

    def new_secret(self) -> Any:
        return _KEY

    def public_bytes(self, secret: Any) -> bytes:
        return _KEY

    def load_public(self, data: bytes) -> Any:
        if data != _KEY:
            raise ValueError("the peer does not run the plaintext benchmark cipher")
        return _KEY

    def encrypt(self, secret: Any, values: Vector) -> list[bytes]:
        return [np.ascontiguousarray(values, dtype=np.float64).tobytes()]

    def masked_column_products(
        self,
        peer: Any,
        residual_part: list[bytes],
        plain_part: Vector,
        features: Matrix,
        rng: np.random.Generator,
    ) -> tuple[list[bytes], Vector]:
        residual = _vector(residual_part[0]) + plain_part
        rows = features.shape[0]
        blobs, mask_sums = [], np.zeros(features.shape[1])
        for j in range(features.shape[1]):
            mask: Vector = np.asarray(rng.uniform(-MASK_BOUND, MASK_BOUND, rows))
            blobs.append((residual * features[:, j] + mask).tobytes())
            mask_sums[j] = mask.sum() / rows
        return blobs, mask_sums

    def decrypt_sums(self, secret: Any, blobs: list[bytes], rows: int) -> Vector:
        return np.array([float(_vector(blob).sum()) / rows for blob in blobs])


class FirstCkks:
    """The first CKKS layout: 4,096 slots, one product ciphertext per column and batch of up to 4,096 rows."""

    def new_secret(self) -> Any:
        context = ts.context(ts.SCHEME_TYPE.CKKS, 8192, coeff_mod_bit_sizes=[60, 40, 60])
        context.global_scale = 2.0**40
        return context

    def public_bytes(self, secret: Any) -> bytes:
        public = secret.copy()
        public.make_context_public()
        return bytes(public.serialize(save_secret_key=False, save_galois_keys=False, save_relin_keys=False))

    def load_public(self, data: bytes) -> Any:
        return ts.context_from(data)

    def encrypt(self, secret: Any, values: Vector) -> list[bytes]:
        return [bytes(ts.ckks_vector(secret, values.tolist()).serialize())]

    def masked_column_products(
        self,
        peer: Any,
        residual_part: list[bytes],
        plain_part: Vector,
        features: Matrix,
        rng: np.random.Generator,
    ) -> tuple[list[bytes], Vector]:
        residual = ts.ckks_vector_from(peer, residual_part[0]) + plain_part.tolist()
        batch = features.shape[0]
        blobs, mask_sums = [], np.zeros(features.shape[1])
        for j in range(features.shape[1]):
            mask: Vector = np.asarray(rng.uniform(-_FIRST_MASK_BOUND, _FIRST_MASK_BOUND, batch))
            product = residual * (features[:, j] / batch).tolist() + mask.tolist()
            blobs.append(bytes(product.serialize()))
            mask_sums[j] = mask.sum()
        return blobs, mask_sums

    def decrypt_sums(self, secret: Any, blobs: list[bytes], rows: int) -> Vector:
        return np.array([float(np.sum(ts.ckks_vector_from(secret, blob).decrypt())) for blob in blobs])


CIPHERS: dict[str, Any] = {"plain": PlainCipher(), "ckks-first": FirstCkks()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--cipher", choices=sorted(CIPHERS), required=True)
    args = parser.parse_args()
    server = make_server(PartyDir(Path(args.dir)), "127.0.0.1", 0, cipher=CIPHERS[args.cipher])
    print(f"joint party serving on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
