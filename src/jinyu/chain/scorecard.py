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
    return _bins(_column(values), np.asarray(labels, dtype=np.int64))


def _bins(column: np.ndarray, y: np.ndarray) -> list[Bin]:
    present = np.sort(column[~np.isnan(column)])
    n = len(present)
    edges = sorted({float(present[min(n - 1, n * k // MAX_BINS)]) for k in range(1, MAX_BINS)}) if n else []
    uppers: list[float | None] = [*edges, math.inf, None]
    index = _bin_index(edges, column)
    bad = np.bincount(index, weights=y, minlength=len(uppers)).astype(np.int64)
    count = np.bincount(index, minlength=len(uppers))
    total_bad = int(y.sum())
    total_good = len(y) - total_bad
    return [
        Bin(upper, woe(int(c - b), int(b), total_good, total_bad), int(c - b), int(b))
        for upper, c, b in zip(uppers, count, bad, strict=True)
    ]


def _column(values: Sequence[float | None]) -> np.ndarray:
    """A feature as floats, missing values as NaN (a present feature is never NaN: see scoring._features)."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _bin_index(edges: Sequence[float], column: np.ndarray) -> np.ndarray:
    """Each value's bin: the first edge it does not exceed, len(edges) above them all, missing last."""
    index = np.searchsorted(np.asarray(edges, dtype=np.float64), column, side="left")
    index[np.isnan(column)] = len(edges) + 1
    return index


def woe_of(bins: Sequence[Bin], value: float | None) -> float:
    """One member's WoE: the bin of the first upper bound the value does not exceed, or the missing bin."""
    if value is None:
        return next(b.woe for b in bins if b.upper is None)
    return next(b.woe for b in bins if b.upper is not None and value <= b.upper)


def woe_column(bins: Sequence[Bin], column: np.ndarray) -> np.ndarray:
    """`woe_of` for a whole column at once (bins as `fit_bins` makes them: edges, +inf, missing)."""
    edges = [b.upper for b in bins if b.upper is not None and b.upper != math.inf]
    woes: np.ndarray = np.array([b.woe for b in bins], dtype=np.float64)[_bin_index(edges, column)]
    return woes


def fit(rows: Sequence[Mapping[str, float | None]], labels: Sequence[int], l2: float = 1.0) -> Model:
    """Bins per feature, then L2-regularised logistic regression of `bad` on the WoE values (Newton steps)."""
    columns = {f: _column([r[f] for r in rows]) for f in FEATURES}
    bins = {f: _bins(columns[f], np.asarray(labels, dtype=np.int64)) for f in FEATURES}
    x = np.column_stack([np.ones(len(rows)), *(woe_column(bins[f], columns[f]) for f in FEATURES)])
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


def score_batch(
    model: Model, rows: Sequence[Mapping[str, float | None]], top: int = 3
) -> list[tuple[float, int, list[dict[str, object]]]]:
    """`score` for many members at once, equal to it member by member (same products, sums in the same
    order, `math.exp` and Python's `round`). A feature's contribution takes one value per bin, so products
    and rounded points are worked out per bin and looked up by each member's bin; only the answer is built
    member by member."""
    values = {f: [r[f] for r in rows] for f in FEATURES}
    cost_columns, point_columns = [], []
    for f in FEATURES:
        bins = model.bins[f]
        edges = [b.upper for b in bins if b.upper is not None and b.upper != math.inf]
        index = _bin_index(edges, _column(values[f]))
        cost = [model.coefficients[f] * b.woe for b in bins]
        cost_columns.append(np.array(cost)[index])
        point_columns.append(np.array([round(-FACTOR * c, 1) for c in cost])[index])
    contributions = np.column_stack(cost_columns)
    total = np.zeros(len(rows))
    for column in cost_columns:  # left to right, as Python's sum() adds the per-member contributions
        total = total + column
    logits = (model.intercept + total).tolist()
    # A stable sort on the negated contributions keeps ties in FEATURES order, as `sorted` does in `score`.
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :top].tolist()
    points = np.column_stack(point_columns).tolist()
    return [
        (
            1.0 / (1.0 + math.exp(-logit)),
            round(OFFSET - FACTOR * logit),
            [
                {"feature": FEATURES[j], "value": values[FEATURES[j]][i], "points": points[i][j]}
                for j in order[i]
            ],
        )
        for i, logit in enumerate(logits)
    ]


def auc(probabilities: Sequence[float], labels: Sequence[int]) -> float | None:
    """Mann-Whitney: the chance a bad one is ranked above a good one (ties count half), counted with a
    binary search of each bad one among the sorted good ones."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    bad, good = p[y], np.sort(p[~y])
    if not len(bad) or not len(good):
        return None
    below = np.searchsorted(good, bad, side="left")
    tied = np.searchsorted(good, bad, side="right") - below
    wins = int(2 * below.sum() + tied.sum()) / 2  # whole and half wins: exact
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
