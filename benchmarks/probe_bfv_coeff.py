"""Probe (issue 17): BFV with coefficient encoding through `tenseal.sealapi`, against the package's CKKS layout.

A go/no-go micro-benchmark, not a cipher of the product. Idea: quantise the residual and a feature column to
fixed-point integers, put a batch's rows into polynomial coefficients (feature in order, residual reversed), so
that ONE plaintext x ciphertext product has the inner product sum_i r_i x_i as coefficient n-1 (no IFFT encoding,
4,096 rows per ciphertext); mask every coefficient with a uniform value mod t; the key owner decrypts and returns
only coefficient n-1; the masker subtracts its mask mod t, centres, divides by the scales and the batch size.

Parameters (128-bit security by SEAL's table: degree 4096 allows 109 bits of coefficient modulus): degree 4096,
moduli 60/32/17 bits (the 17-bit prime is SEAL's "special" prime, dropped at the data level; the product is
mod-switched down to the 60-bit prime before it is sent, which halves its bytes), plain modulus t = 2^43.
Fixed point: each residual share clipped to |v| < 8 at scale 2^14, each feature column scaled per batch so its
largest |x| is at most 2^12 (the feature owner picks the scale; the key owner sees only a uniform value mod t).
|sum| <= 4,096 * 2^18 * 2^12 = 2^42 < t/2, so it never wraps.

SEAL's Python bindings offer no plaintext construction from an array (only from a polynomial string) and save
and load only through files; a plaintext is therefore written as SEAL's own uncompressed serialisation into a
scratch file in /dev/shm and loaded (0.05 ms, SEAL checks it against the context).

Measures, in one run, the ciphers taking turns (CPU time of this process, median of --rounds):
one 4,096-row batch's encryption work on both sides (2 residual encryptions, 14 + 10 masked column products,
24 decryptions), the noise budget left, the bytes, and the largest gradient error against float64. Then the
model's AUC when every gradient entry is computed as the BFV layout computes it (exact integer arithmetic on the
quantised values: BFV decrypts exactly while the budget is positive), against pooled float training, on
../shared/data/default_credit with the benchmark's spec.

    PYTHONPATH=. .venv/bin/python benchmarks/probe_bfv_coeff.py --rounds 9
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from tenseal import sealapi as s

from benchmarks.machine import calibration, machine_info
from jinyu.jointmodel import he, rules

RESULTS = Path(__file__).parent / "results"
DATA = Path("/work/shared/data/default_credit")

N = 4096
BITS = [60, 32, 17]
T_BITS = 43
T = 1 << T_BITS
RESIDUAL_SCALE_BITS = 14
RESIDUAL_CLIP = 8.0
FEATURE_BITS = 12


def _header(total: int) -> bytes:
    # SEAL's serialisation header: magic 0xA15E, header size 16, version 4.x, compression none, total size
    return struct.pack("<HBBBBHQ", 0xA15E, 16, 4, 3, 0, 0, total)


class CoeffBfv:
    """One party's BFV key and the probe's operations."""

    def __init__(self) -> None:
        parms = s.EncryptionParameters(s.SCHEME_TYPE.BFV)
        parms.set_poly_modulus_degree(N)
        parms.set_coeff_modulus(s.CoeffModulus.Create(N, BITS))
        parms.set_plain_modulus(T)
        self.context = s.SEALContext(parms, True, s.SEC_LEVEL_TYPE.TC128)
        keygen = s.KeyGenerator(self.context)
        public = s.PublicKey()
        keygen.create_public_key(public)
        self.encryptor = s.Encryptor(self.context, public)
        self.decryptor = s.Decryptor(self.context, keygen.secret_key())
        self.evaluator = s.Evaluator(self.context)

    def _file(self, data: bytes | None = None) -> str:
        handle, name = tempfile.mkstemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        if data is not None:
            os.write(handle, data)
        os.close(handle)
        return name

    def plaintext(self, coeffs: np.ndarray) -> Any:
        c = np.ascontiguousarray(np.asarray(coeffs, dtype=np.int64) % T, dtype="<u8")
        array = _header(16 + 8 + 8 * N) + struct.pack("<Q", N) + c.tobytes()
        body = b"\0" * 32 + struct.pack("<Qd", N, 1.0) + array  # parms_id (none), coeff count, scale
        name = self._file(_header(16 + len(body)) + body)
        try:
            plain = s.Plaintext()
            plain.load(self.context, name)
        finally:
            os.unlink(name)
        return plain

    def save(self, cipher: Any) -> bytes:
        name = self._file()
        try:
            cipher.save(name)
            return Path(name).read_bytes()
        finally:
            os.unlink(name)

    def load(self, blob: bytes) -> Any:
        name = self._file(blob)
        try:
            cipher = s.Ciphertext(self.context)
            cipher.load(self.context, name)
        finally:
            os.unlink(name)
        return cipher

    @staticmethod
    def residual_coeffs(values: np.ndarray) -> np.ndarray:
        q = np.rint(np.clip(values, -RESIDUAL_CLIP + 1e-9, RESIDUAL_CLIP - 1e-9) * 2.0**RESIDUAL_SCALE_BITS)
        coeffs = np.zeros(N, dtype=np.int64)
        coeffs[N - 1 - np.arange(len(values))] = q.astype(np.int64)  # reversed
        return coeffs

    @staticmethod
    def feature_coeffs(column: np.ndarray) -> tuple[np.ndarray, int]:
        top = float(np.abs(column).max())
        shift = FEATURE_BITS - (int(np.ceil(np.log2(top))) if top > 0 else 0)
        q = np.clip(np.rint(column * 2.0**shift), -(2**FEATURE_BITS), 2**FEATURE_BITS).astype(np.int64)
        coeffs = np.zeros(N, dtype=np.int64)
        coeffs[: len(column)] = q
        return coeffs, shift

    def encrypt(self, values: np.ndarray) -> bytes:
        cipher = s.Ciphertext()
        self.encryptor.encrypt(self.plaintext(self.residual_coeffs(values)), cipher)
        return self.save(cipher)

    def masked_column_products(
        self, peer: CoeffBfv, blob: bytes, own: np.ndarray, features: np.ndarray, rng: np.random.Generator
    ) -> tuple[list[bytes], list[tuple[int, int]]]:
        """Per column: [[ (residual_peer + own) * column + mask ]] under the peer's key; keeps (mask_{n-1}, shift)."""
        ev = peer.evaluator
        residual = peer.load(blob)
        ev.add_plain_inplace(residual, peer.plaintext(self.residual_coeffs(own)))
        ev.transform_to_ntt_inplace(residual)
        blobs, kept = [], []
        for j in range(features.shape[1]):
            coeffs, shift = self.feature_coeffs(features[:, j])
            plain = peer.plaintext(coeffs)
            ev.transform_to_ntt_inplace(plain, residual.parms_id())
            product = s.Ciphertext()
            ev.multiply_plain(residual, plain, product)
            ev.transform_from_ntt_inplace(product)
            mask = rng.integers(0, T, N, dtype=np.uint64)
            ev.add_plain_inplace(product, peer.plaintext(mask.astype(np.int64)))
            ev.mod_switch_to_next_inplace(product)
            blobs.append(peer.save(product))
            kept.append((int(mask[N - 1]), shift))
        return blobs, kept

    def decrypt_coefficients(self, blobs: list[bytes]) -> list[int]:
        """The key owner: coefficient n-1 of each (a uniform value mod t)."""
        out = []
        for blob in blobs:
            plain = s.Plaintext()
            self.decryptor.decrypt(self.load(blob), plain)
            out.append(int(plain[N - 1]))
        return out

    def noise_budget(self, blobs: list[bytes]) -> int:
        """Bits of noise budget left (SEAL's invariant noise budget; 0 = decryption fails), the smallest."""
        return min(self.decryptor.invariant_noise_budget(self.load(blob)) for blob in blobs)

    @staticmethod
    def unmask(values: list[int], kept: list[tuple[int, int]], rows: int) -> np.ndarray:
        result = []
        for value, (mask, shift) in zip(values, kept, strict=True):
            v = (value - mask) % T
            v = v - T if v >= T // 2 else v
            result.append(v / 2.0 ** (RESIDUAL_SCALE_BITS + shift) / rows)
        return np.array(result)


def quantised_gradient(features: np.ndarray, residual_shares: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """What the BFV layout yields (exact integer arithmetic), without encryption: for the AUC check."""
    rows = features.shape[0]
    d = sum(
        np.rint(np.clip(r, -RESIDUAL_CLIP + 1e-9, RESIDUAL_CLIP - 1e-9) * 2.0**RESIDUAL_SCALE_BITS).astype(
            np.int64
        )
        for r in residual_shares
    )
    out = np.zeros(features.shape[1])
    for j in range(features.shape[1]):
        coeffs, shift = CoeffBfv.feature_coeffs(features[:, j])
        out[j] = int(coeffs[:rows] @ d) / 2.0 ** (RESIDUAL_SCALE_BITS + shift) / rows
    return out


def batch_costs(rounds: int, rows: int) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    cost: dict[str, dict[str, list[float]]] = {
        n: {"encrypt_ms": [], "products_ms": [], "decrypt_ms": []} for n in ("ckks", "bfv-coeff")
    }
    errors: dict[str, float] = {"ckks": 0.0, "bfv-coeff": 0.0}
    facts: dict[str, Any] = {}
    for _ in range(rounds):
        g_res, h_res = rng.normal(0.2, 0.4, rows), rng.normal(0, 0.3, rows)
        guest_x, host_x = rng.normal(size=(rows, 14)), rng.normal(size=(rows, 10))
        guest_x[:3, 2] = 70.0  # standardised features reach ~73 in default_credit
        exact_g = guest_x.T @ (g_res + h_res) / rows
        exact_h = host_x.T @ (g_res + h_res) / rows
        # the package's CKKS layout
        gk, hk = he.new_secret_context(), he.new_secret_context()
        gp, hp = he.load_context(he.public_bytes(gk)), he.load_context(he.public_bytes(hk))
        t0 = time.process_time()
        from_g, from_h = he.encrypt(gk, g_res), he.encrypt(hk, h_res)
        t1 = time.process_time()
        g_pieces, g_masks = he.masked_column_products(hp, from_h, g_res, guest_x, rng)
        h_pieces, h_masks = he.masked_column_products(gp, from_g, h_res, host_x, rng)
        t2 = time.process_time()
        g_sums = he.decrypt_sums(hk, g_pieces, rows)
        h_sums = he.decrypt_sums(gk, h_pieces, rows)
        t3 = time.process_time()
        for k, v in zip(cost["ckks"], (t1 - t0, t2 - t1, t3 - t2), strict=True):
            cost["ckks"][k].append(v * 1000)
        errors["ckks"] = max(
            errors["ckks"], *np.abs(g_sums - g_masks - exact_g), *np.abs(h_sums - h_masks - exact_h)
        )
        facts["ckks"] = {"residual_bytes": sum(map(len, from_g)), "product_bytes": len(g_pieces[0])}
        # the probe's BFV coefficient layout
        gb, hb = CoeffBfv(), CoeffBfv()
        t0 = time.process_time()
        bf_g, bf_h = gb.encrypt(g_res), hb.encrypt(h_res)
        t1 = time.process_time()
        gq, g_kept = gb.masked_column_products(hb, bf_h, g_res, guest_x, rng)
        hq, h_kept = hb.masked_column_products(gb, bf_g, h_res, host_x, rng)
        t2 = time.process_time()
        g_vals = hb.decrypt_coefficients(gq)
        h_vals = gb.decrypt_coefficients(hq)
        t3 = time.process_time()
        g_budget, h_budget = hb.noise_budget(gq), gb.noise_budget(hq)
        for k, v in zip(cost["bfv-coeff"], (t1 - t0, t2 - t1, t3 - t2), strict=True):
            cost["bfv-coeff"][k].append(v * 1000)
        g_grad, h_grad = CoeffBfv.unmask(g_vals, g_kept, rows), CoeffBfv.unmask(h_vals, h_kept, rows)
        assert np.allclose(g_grad, quantised_gradient(guest_x, (g_res, h_res)), rtol=0, atol=1e-12)
        errors["bfv-coeff"] = max(errors["bfv-coeff"], *np.abs(g_grad - exact_g), *np.abs(h_grad - exact_h))
        facts["bfv-coeff"] = {
            "residual_bytes": len(bf_g),
            "product_bytes": len(gq[0]),
            "noise_budget_bits_left": min(
                g_budget, h_budget, facts.get("bfv-coeff", {}).get("noise_budget_bits_left", 99)
            ),
        }
    out: dict[str, Any] = {}
    for name, parts in cost.items():
        medians = {k: round(statistics.median(v), 2) for k, v in parts.items()}
        total = round(statistics.median(map(sum, zip(*parts.values(), strict=True))), 2)
        out[name] = medians | {"total_ms": total, "max_gradient_error": float(errors[name])} | facts[name]
    out["bfv_to_ckks_total"] = round(out["bfv-coeff"]["total_ms"] / out["ckks"]["total_ms"], 3)
    return out


def auc_check(epochs: int = 5, seed: int = 7, batch_size: int = 4096) -> dict[str, float]:
    """Pooled float training against the same training with BFV-layout gradients (guest/host column split)."""

    def read(path: Path) -> tuple[list[str], np.ndarray, np.ndarray | None]:
        with path.open() as f:
            r = list(csv.DictReader(f))
        cols = [c for c in r[0] if c not in ("id", "y")]
        ys = np.array([float(x["y"]) for x in r]) if "y" in r[0] else None
        return [x["id"] for x in r], np.array([[float(x[c]) for c in cols] for x in r]), ys

    gi, gx, gy = read(DATA / "default_credit_hetero_guest.csv")
    hi, hx, _ = read(DATA / "default_credit_hetero_host.csv")
    hpos = {v: i for i, v in enumerate(hi)}
    gpos = {v: i for i, v in enumerate(gi)}
    ids = sorted(set(gpos) & set(hpos))
    xg = rules.with_intercept(gx[[gpos[i] for i in ids]])
    xh = hx[[hpos[i] for i in ids]]
    assert gy is not None
    y = gy[[gpos[i] for i in ids]]
    valid = np.array([rules.is_validation(i, seed, 0.2) for i in ids])
    tg, th, ty = xg[~valid], xh[~valid], y[~valid]
    k = tg.shape[1]
    w_float, w_bfv = np.zeros(k + th.shape[1]), np.zeros(k + th.shape[1])
    for epoch in range(epochs):
        for rows in rules.epoch_batches(len(ty), batch_size, epoch, seed):
            x = np.hstack([tg[rows], th[rows]])
            d = rules.TAYLOR_SLOPE * (x @ w_float) + rules.TAYLOR_OFFSET - ty[rows]
            w_float -= 0.5 * rules.batch_gradient(x, d, w_float, 0.0)
            share_g = rules.guest_offset(tg[rows] @ w_bfv[:k], ty[rows])
            share_h = rules.TAYLOR_SLOPE * (th[rows] @ w_bfv[k:])
            grad = np.concatenate(
                [
                    quantised_gradient(tg[rows], (share_g, share_h)),
                    quantised_gradient(th[rows], (share_g, share_h)),
                ]
            )
            w_bfv -= 0.5 * grad
    xv = np.hstack([xg[valid], xh[valid]])
    return {
        "auc_pooled_float": round(rules.auc(xv @ w_float, y[valid]), 6),
        "auc_bfv_quantised": round(rules.auc(xv @ w_bfv, y[valid]), 6),
        "max_weight_difference": float(np.abs(w_float - w_bfv).max()),
    }


def main() -> None:
    global N, BITS
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--out", default="joint-bfv-probe.json")
    parser.add_argument(
        "--degree", type=int, default=N, help="polynomial degree (8192: room for noise flooding)"
    )
    parser.add_argument(
        "--moduli", default=",".join(map(str, BITS)), help="prime bit sizes, special prime last"
    )
    parser.add_argument("--skip-auc", action="store_true", help="the AUC check does not depend on the degree")
    args = parser.parse_args()
    N, BITS = args.degree, [int(b) for b in args.moduli.split(",")]
    before, load_before = calibration(), os.getloadavg()
    costs = batch_costs(args.rounds, 4096)
    auc = {} if args.skip_auc else auc_check()
    after, load_after = calibration(), os.getloadavg()
    result = {
        "figures": {
            "batch_costs": costs,
            "auc": auc,
            "degree": N,
            "moduli_bits": BITS,
            "plain_modulus_bits": T_BITS,
        },
        "machine": machine_info(),
        "load_average": {"before": load_before, "after": load_after},
        "calibration": {"before": before, "after": after},
    }
    print(json.dumps(result["figures"], indent=2))
    print("load", load_before, load_after, "calibration", before, after)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
