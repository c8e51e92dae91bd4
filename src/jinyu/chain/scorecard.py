"""A documented scorecard for on-chain enterprises (pure, numpy): quantile binning with weight of evidence,
logistic regression on the WoE values, points, top factors, and evaluation (AUC, KS, calibration).

Target ("bad" = 1): the enterprise shows a distress flag (`deregistered`, `no_headcount`, `headcount_drop`,
`tax_drop`, `judicial`) six months after the as-of month. Features as of the as-of month: head-count change
over six months, twelve-month tax change, open cases, paying months, supplier and buyer PageRank.
See docs/chains.md, "Scorecard".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

FEATURES = (
    "headcount_change",
    "tax_change",
    "open_cases",
    "paying_months",
    "pagerank_supplier",
    "pagerank_buyer",
)
BAD_FLAGS = frozenset({"deregistered", "no_headcount", "headcount_drop", "tax_drop", "judicial"})
MAX_BINS = 4
BASE_SCORE, BASE_ODDS, PDO = 600.0, 50.0, 20.0  # 600 points at good:bad odds of 50:1; 20 points double them
FACTOR = PDO / math.log(2)
OFFSET = BASE_SCORE - FACTOR * math.log(BASE_ODDS)


@dataclass(frozen=True)
class Bin:
    upper: float | None  # values ≤ upper (the last bin: +inf); None = the missing-value bin
    woe: float
    good: int
    bad: int


@dataclass(frozen=True)
class Model:
    bins: dict[str, list[Bin]]
    intercept: float
    coefficients: dict[str, float]


def woe(good: int, bad: int, total_good: int, total_bad: int) -> float:
    """ln((good share)/(bad share)), with 0.5 added to each count so that empty cells stay finite."""
    return math.log(((good + 0.5) / (total_good + 1)) / ((bad + 0.5) / (total_bad + 1)))


def fit_bins(values: Sequence[float | None], labels: Sequence[int]) -> list[Bin]:
    """Up to MAX_BINS quantile bins of the present values (distinct edges only), plus a missing bin."""
    present = sorted(v for v in values if v is not None)
    n = len(present)
    edges = sorted({present[min(n - 1, n * k // MAX_BINS)] for k in range(1, MAX_BINS)}) if present else []
    uppers: list[float | None] = [*edges, math.inf]
    total_bad = sum(labels)
    total_good = len(labels) - total_bad
    out = []
    for upper in [*uppers, None]:
        members = [y for v, y in zip(values, labels, strict=True) if _bin_of(uppers, v) == upper]
        bad = sum(members)
        out.append(Bin(upper, woe(len(members) - bad, bad, total_good, total_bad), len(members) - bad, bad))
    return out


def _bin_of(uppers: Sequence[float | None], value: float | None) -> float | None:
    if value is None:
        return None
    return next(u for u in uppers if u is not None and value <= u)


def woe_of(bins: Sequence[Bin], value: float | None) -> float:
    uppers = [b.upper for b in bins if b.upper is not None]
    key = _bin_of(uppers, value)
    return next(b.woe for b in bins if b.upper == key)


def fit(rows: Sequence[Mapping[str, float | None]], labels: Sequence[int], l2: float = 1.0) -> Model:
    """Bins per feature, then L2-regularised logistic regression of `bad` on the WoE values (Newton steps)."""
    bins = {f: fit_bins([r[f] for r in rows], labels) for f in FEATURES}
    x = np.array([[1.0, *(woe_of(bins[f], r[f]) for f in FEATURES)] for r in rows])
    y = np.array(labels, dtype=float)
    beta = np.zeros(x.shape[1])
    penalty = np.eye(x.shape[1]) * l2
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        gradient = x.T @ (p - y) + penalty @ beta
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return Model(bins, float(beta[0]), {f: float(b) for f, b in zip(FEATURES, beta[1:], strict=True)})


def score(
    model: Model, row: Mapping[str, float | None], top: int = 3
) -> tuple[float, int, list[dict[str, object]]]:
    """Probability of `bad`, points (higher is better), and the features that cost the most points."""
    contributions = {f: model.coefficients[f] * woe_of(model.bins[f], row[f]) for f in FEATURES}
    logit = model.intercept + sum(contributions.values())
    probability = 1.0 / (1.0 + math.exp(-logit))
    points = round(OFFSET - FACTOR * logit)
    factors = sorted(contributions.items(), key=lambda kv: -kv[1])[:top]
    return (
        probability,
        points,
        [{"feature": f, "value": row[f], "points": round(-FACTOR * c, 1)} for f, c in factors],
    )


def auc(probabilities: Sequence[float], labels: Sequence[int]) -> float | None:
    """Mann-Whitney: the chance a bad one is ranked above a good one (ties count half)."""
    bad = [p for p, y in zip(probabilities, labels, strict=True) if y]
    good = [p for p, y in zip(probabilities, labels, strict=True) if not y]
    if not bad or not good:
        return None
    wins = sum((b > g) + 0.5 * (b == g) for b in bad for g in good)
    return wins / (len(bad) * len(good))


def ks(probabilities: Sequence[float], labels: Sequence[int]) -> float | None:
    """Largest gap between the cumulative shares of bad and good ones over the probability thresholds."""
    total_bad = sum(labels)
    total_good = len(labels) - total_bad
    if not total_bad or not total_good:
        return None
    best = bad = good = 0.0
    order = sorted(zip(probabilities, labels, strict=True), key=lambda t: -t[0])
    for i, (p, y) in enumerate(order):
        bad += y
        good += 1 - y
        if i + 1 == len(order) or order[i + 1][0] != p:  # only between distinct probabilities
            best = max(best, abs(bad / total_bad - good / total_good))
    return best


def calibration(
    probabilities: Sequence[float], labels: Sequence[int], groups: int = 5
) -> list[dict[str, float]]:
    """Mean predicted probability against the observed bad rate, in groups of equal size by probability."""
    order = sorted(zip(probabilities, labels, strict=True))
    out = []
    for g in range(groups):
        part = order[len(order) * g // groups : len(order) * (g + 1) // groups]
        if part:
            out.append(
                {
                    "count": len(part),
                    "predicted": sum(p for p, _ in part) / len(part),
                    "observed": sum(y for _, y in part) / len(part),
                }
            )
    return out
