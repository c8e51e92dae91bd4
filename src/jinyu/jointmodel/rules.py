"""Pure rules of joint modelling: the Taylor-approximated logistic gradient, batches, splits, metrics, scorecards.

The encrypted protocol (guest.py/host.py) and the plaintext baseline (`train_plain`) share these functions, so the
only difference between a joint model and a pooled one is the encryption and its noise.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float64]
Matrix = npt.NDArray[np.float64]

# sigmoid(u) ~ 1/2 + u/4 (first-order Taylor at 0): the residual becomes linear in the logit, so it can be computed
# on ciphertexts that support only additions and multiplications by plaintexts.
TAYLOR_SLOPE = 0.25
TAYLOR_OFFSET = 0.5


def sigmoid(u: Vector) -> Vector:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(u, -30, 30))), dtype=np.float64)


def guest_offset(u_guest: Vector, labels: Vector) -> Vector:
    """The guest's share of the Taylor residual: d = 0.25*u_host + (0.25*u_guest + 0.5 - y)."""
    return TAYLOR_SLOPE * u_guest + TAYLOR_OFFSET - labels


def batch_gradient(features: Matrix, residual: Vector, weights: Vector, l2: float) -> Vector:
    """Mean gradient of one batch plus the L2 term: X^T d / b + l2*w (the plaintext definition)."""
    return np.asarray(features.T @ residual / len(residual) + l2 * weights, dtype=np.float64)


def epoch_batches(n_rows: int, batch_size: int, epoch: int, seed: int) -> list[npt.NDArray[np.int64]]:
    """Row positions of each batch of an epoch: both parties derive the same order from (seed, epoch)."""
    order = np.random.default_rng([seed, epoch]).permutation(n_rows)
    return [order[i : i + batch_size] for i in range(0, n_rows, batch_size)]


def is_validation(row_id: str, seed: int, valid_share: float) -> bool:
    """A row belongs to the validation split when its keyed hash falls below the share (same on both sides)."""
    digest = hashlib.sha256(f"{seed}:{row_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < valid_share


def with_intercept(features: Matrix) -> Matrix:
    """The guest carries the intercept: a constant column of ones placed first."""
    return np.hstack([np.ones((features.shape[0], 1)), features])


def train_plain(
    features: Matrix,
    labels: Vector,
    *,
    epochs: int,
    learning_rate: float,
    l2: float,
    batch_size: int,
    seed: int,
) -> Vector:
    """The pooled plaintext baseline: the same batches and Taylor gradient as the joint protocol."""
    weights = np.zeros(features.shape[1])
    for epoch in range(epochs):
        for rows in epoch_batches(len(labels), batch_size, epoch, seed):
            residual = TAYLOR_SLOPE * (features[rows] @ weights) + TAYLOR_OFFSET - labels[rows]
            weights -= learning_rate * batch_gradient(features[rows], residual, weights, l2)
    return weights


def auc(scores: Sequence[float] | Vector, labels: Sequence[float] | Vector) -> float:
    """Area under the ROC curve by the Mann-Whitney rank sum, ties sharing their average rank."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    positives = int((y == 1).sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return math.nan
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_scores = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def ks_statistic(scores: Sequence[float] | Vector, labels: Sequence[float] | Vector) -> float:
    """Kolmogorov-Smirnov: the largest gap between the score distributions of positives and negatives."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    thresholds = np.unique(s)
    pos = np.sort(s[y == 1])
    neg = np.sort(s[y == 0])
    if len(pos) == 0 or len(neg) == 0:
        return math.nan
    cdf_pos = np.searchsorted(pos, thresholds, side="right") / len(pos)
    cdf_neg = np.searchsorted(neg, thresholds, side="right") / len(neg)
    return float(np.max(np.abs(cdf_pos - cdf_neg)))


@dataclass(frozen=True)
class Scale:
    """Score = offset - factor * logit: `base` points at odds `base_odds`:1 (good:bad), `pdo` points double them."""

    base: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base - self.factor * math.log(self.base_odds)


def quantile_edges(values: Vector, bins: int) -> list[float]:
    """Inner edges of equal-frequency bins (duplicates removed, so a skewed column gets fewer bins)."""
    inner = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return [float(v) for v in np.unique(inner)]


def bin_index(values: Vector, edges: Sequence[float]) -> npt.NDArray[np.int64]:
    """Bin k holds edges[k-1] < v <= edges[k] (right-closed); values above the last edge go to the last bin."""
    return np.searchsorted(np.asarray(edges), values, side="left").astype(np.int64)


def bin_points(values: Vector, edges: Sequence[float], weight: float, scale: Scale) -> list[float]:
    """Points of each bin of one feature: -factor * weight * (median of the bin's training values)."""
    index = bin_index(values, edges)
    points = []
    for k in range(len(edges) + 1):
        members = values[index == k]
        centre = (
            float(np.median(members)) if len(members) else (edges[min(k, len(edges) - 1)] if edges else 0.0)
        )
        points.append(round(-scale.factor * weight * centre, 4))
    return points


def card_points(features: Matrix, table: Sequence[tuple[Sequence[float], Sequence[float]]]) -> Vector:
    """Sum of the points of each row over the features of one party's card: table[j] = (edges, points)."""
    total = np.zeros(features.shape[0])
    for j, (edges, points) in enumerate(table):
        total += np.asarray(points)[bin_index(features[:, j], edges)]
    return total
