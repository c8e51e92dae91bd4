"""A documented scorecard for on-chain enterprises (pure): optimal binning per feature (optbinning), weight of
evidence, L2 logistic regression (scikit-learn) on the WoE values, points, bands, top factors, and evaluation
(AUC, KS, calibration).

Target ("bad" = 1): the enterprise shows a distress flag (`deregistered`, `no_headcount`, `headcount_drop`,
`tax_drop`, `judicial`) six months after the as-of month. Features as of the as-of month: head-count change
over six months, twelve-month tax change, open cases, paying months, and network features of the supply
network (supplier and buyer PageRank, how many suppliers and buyers, the largest buyer's share).
See docs/chains.md, "Scorecard".
"""

from __future__ import annotations

import gc
import math
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache

import numpy as np
from threadpoolctl import ThreadpoolController

FEATURES = (
    "headcount_change",
    "tax_change",
    "open_cases",
    "paying_months",
    "pagerank_supplier",
    "pagerank_buyer",
    "suppliers",
    "buyers",
    "top_buyer_share",
)
# Features a bank may not see the value of without a level-5 approval: they are computed from tax sums.
TAX_FEATURES = frozenset({"tax_change"})
BAD_FLAGS = frozenset({"deregistered", "no_headcount", "headcount_drop", "tax_drop", "judicial"})
MAX_BINS = 5
MAX_PREBINS = 10
MIN_BIN_SHARE = 0.05  # of the feature's present values, for pre-bins and bins
MAX_PVALUE = 0.05  # neighbouring bins' bad rates must differ at this level (chi-squared test)
BASE_SCORE, BASE_ODDS, PDO = 600.0, 50.0, 20.0  # 600 points at good:bad odds of 50:1; 20 points double them
FACTOR = PDO / math.log(2)
OFFSET = BASE_SCORE - FACTOR * math.log(BASE_ODDS)
# Bands by points, best first: A from 640 (odds ≥ 200:1), B from 600 (50:1), C from 560 (12.5:1), D from 520.
BANDS = (("A", 640), ("B", 600), ("C", 560), ("D", 520))
CALIBRATION_METHODS = ("isotonic", "platt")  # the first is the default (docs/chains.md, "Calibration")
# An isotonic PD is an observed bad rate of the calibration month, which may be 0 or 1 for a block: it is
# kept off them (a PD of 0 has no points), i.e. between 1:999 and 999:1 odds.
PD_FLOOR = 0.001


@dataclass(frozen=True)
class Bin:
    upper: float | None  # values < upper (the last bin: +inf); None = the missing-value bin
    woe: float
    good: int
    bad: int


@dataclass(frozen=True)
class Model:
    bins: dict[str, list[Bin]]
    intercept: float
    coefficients: dict[str, float]
    # Platt scaling fitted on a later, held-out month: PD = 1 / (1 + exp(-(a + b·logit))); None: uncalibrated.
    platt: tuple[float, float] | None = None
    # Isotonic calibration fitted on a later, held-out month: the step points (raw logit, PD), logits
    # ascending; PD = linear interpolation between them, constant beyond the ends, clamped to
    # [PD_FLOOR, 1 − PD_FLOOR]. None: not calibrated this way. At most one of platt / isotonic is set.
    isotonic: tuple[tuple[float, ...], tuple[float, ...]] | None = None


def woe(good: int, bad: int, total_good: int, total_bad: int) -> float:
    """ln((good share)/(bad share)), with 0.5 added to each count so that empty or pure bins stay finite."""
    return math.log(((good + 0.5) / (total_good + 1)) / ((bad + 0.5) / (total_bad + 1)))


def optimal_splits(x: np.ndarray, y: np.ndarray) -> list[float]:
    """Cut points of up to MAX_BINS bins that best separate the classes, monotonic in the bad rate.

    optbinning solves it (constraint programming over pre-bins): CART pre-bins (at most MAX_PREBINS, each
    at least MIN_BIN_SHARE of the present values), then the bins that maximise the Hellinger divergence, each
    at least MIN_BIN_SHARE of the present values, with a bad rate ascending or descending (whichever fits),
    neighbouring bins differing significantly (chi-squared p-value ≤ MAX_PVALUE: noise gets no cut).
    Missing values are not passed: they get their own bin (fit_bins). Hellinger rather than information value:
    IV is infinite on a pre-bin of one class only, and optbinning then merges such pre-bins away, losing the
    cleanest cut (test_scorecard: a perfect split at 19.5 with one exception on each side)."""
    if len(np.unique(x)) < 2 or len(np.unique(y)) < 2:
        return []
    from optbinning import (
        OptimalBinning,
    )  # heavy import (OR-Tools, scikit-learn): only when a model is fitted

    binning = OptimalBinning(
        name="feature",
        dtype="numerical",
        solver="cp",
        divergence="hellinger",
        prebinning_method="cart",
        max_n_prebins=MAX_PREBINS,
        min_prebin_size=MIN_BIN_SHARE,
        min_bin_size=MIN_BIN_SHARE,
        max_n_bins=MAX_BINS,
        monotonic_trend="auto_asc_desc",
        max_pvalue=MAX_PVALUE,
        max_pvalue_policy="consecutive",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optbinning warns about bin sizes on small samples
        binning.fit(x, y)
    return [float(s) for s in binning.splits]


def fit_bins(values: Sequence[float | None], labels: Sequence[int]) -> list[Bin]:
    """Optimal bins of the present values (bin i holds cut[i-1] ≤ v < cut[i]), plus a missing-value bin."""
    return _fit_bins(_array(values), np.asarray(labels, dtype=np.int64))


def _fit_bins(x: np.ndarray, y: np.ndarray) -> list[Bin]:
    present = ~np.isnan(x)
    splits = optimal_splits(x[present], y[present])
    index = _bin_index(splits, x)
    total_bad = int(y.sum())
    total_good = len(y) - total_bad
    out = []
    for i, upper in enumerate([*splits, math.inf, None]):
        bad = int(y[index == i].sum())
        good = int((index == i).sum()) - bad
        out.append(Bin(upper, woe(good, bad, total_good, total_bad), good, bad))
    return out


def _array(values: Sequence[float | None] | np.ndarray) -> np.ndarray:
    """The values as float64, None as NaN (numpy converts each as float() does, and None to NaN)."""
    return np.array(values, dtype=np.float64)


def _columns(rows: Sequence[Mapping[str, float | None]]) -> dict[str, np.ndarray]:
    """Each feature's values over the rows, read from the rows once."""
    return {f: _array([r[f] for r in rows]) for f in FEATURES}


_ONE_FIT_AT_A_TIME = threading.RLock()  # re-entrant: a fit inside a fit (none today) would not deadlock


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()  # finding the loaded libraries scans them: once, when first fitted


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS on one thread while a regression is fitted. On 100k × 9 WoE values OpenBLAS's threads cost more
    than they give (on a busy 2-core machine the fit took ten times as long with two), and their partial
    sums land in an order that depends on the thread count, so the fitted coefficients differed in the
    last digits (1e-6 at lbfgs's tolerance) from one machine to another. One thread: the same everywhere.
    The limit is the process's, and leaving it restores what was there on entering: fits run one at a time
    (a lock), so one fit's exit cannot give BLAS its threads back under another still running."""
    with _ONE_FIT_AT_A_TIME, _blas().limit(limits=1, user_api="blas"):
        yield


def _bin_index(splits: Sequence[float], x: np.ndarray) -> np.ndarray:
    """Index of each value's bin: 0..len(splits) for present values, len(splits) + 1 for missing ones."""
    index = np.searchsorted(np.asarray(splits, dtype=np.float64), x, side="right")
    return np.where(np.isnan(x), len(splits) + 1, index)


def woe_values(bins: Sequence[Bin], values: Sequence[float | None] | np.ndarray) -> np.ndarray:
    splits = [b.upper for b in bins[:-2] if b.upper is not None]
    table = np.array([b.woe for b in bins], dtype=np.float64)
    found: np.ndarray = table[_bin_index(splits, _array(values))]
    return found


def woe_of(bins: Sequence[Bin], value: float | None) -> float:
    return float(woe_values(bins, [value])[0])


def fit(rows: Sequence[Mapping[str, float | None]], labels: Sequence[int], l2: float = 1.0) -> Model:
    """Bins per feature, then L2-regularised logistic regression of `bad` on the WoE values.

    scikit-learn's objective ½‖β‖² + C·Σ log-loss with C = 1 / l2 (intercept not penalised) is the documented
    Σ log-loss + (l2 / 2)‖β‖², scaled."""
    from sklearn.linear_model import LogisticRegression  # heavy import: only when a model is fitted

    columns, y = _columns(rows), np.asarray(labels, dtype=np.int64)
    bins = {f: _fit_bins(columns[f], y) for f in FEATURES}
    x = np.column_stack([woe_values(bins[f], columns[f]) for f in FEATURES])
    regression = LogisticRegression(C=1.0 / l2, solver="lbfgs", tol=1e-10, max_iter=10_000)
    with _one_blas_thread():
        regression.fit(x, y)
    coefficients = {f: float(b) for f, b in zip(FEATURES, regression.coef_[0], strict=True)}
    return Model(bins, float(regression.intercept_[0]), coefficients)


def band(points: int) -> str:
    return next((name for name, floor in BANDS if points >= floor), "E")


Scored = tuple[float, int, list[dict[str, object]]]  # probability of bad, points, top factors


def _factors(
    row: Mapping[str, float | None], contributions: Sequence[float], top: int
) -> list[dict[str, object]]:
    """The (up to `top`) features whose term coefficient × WoE adds most to the logit, with their cost in
    points; a feature costing less than 0.05 points is not a factor (numerical dust, or it lowers the odds)."""
    costly = [i for i, c in enumerate(contributions) if round(FACTOR * c, 1) > 0]
    worst = sorted(costly, key=lambda i: (-contributions[i], i))[:top]
    return [
        {"feature": FEATURES[i], "value": row[FEATURES[i]], "points": round(-FACTOR * contributions[i], 1)}
        for i in worst
    ]


def isotonic_pd(steps: tuple[Sequence[float], Sequence[float]], logit: float) -> float:
    """The calibrated PD of a raw logit: linear between the step points, constant beyond the ends, clamped."""
    xs, ys = steps
    found = float(np.interp(logit, xs, ys))
    return min(max(found, PD_FLOOR), 1.0 - PD_FLOOR)


def _calibrated(model: Model, logit: float, contributions: Sequence[float]) -> tuple[float, list[float]]:
    """The logit and the terms after calibration: Platt (a + b·logit; each term × b); isotonic (the logit of
    the calibrated PD; the terms as the model has them — the map is monotonic but not linear, so a factor's
    points are those of the uncalibrated model); or as they are."""
    if model.isotonic is not None:
        pd = isotonic_pd(model.isotonic, logit)
        return math.log(pd / (1.0 - pd)), list(contributions)
    if model.platt is None:
        return logit, list(contributions)
    a, b = model.platt
    return a + b * logit, [b * c for c in contributions]


def score(model: Model, row: Mapping[str, float | None], top: int = 3) -> Scored:
    """One member, feature by feature: probability of `bad`, points (higher is better), top factors."""
    contributions = [model.coefficients[f] * woe_of(model.bins[f], row[f]) for f in FEATURES]
    logit, terms = _calibrated(model, model.intercept + sum(contributions), contributions)
    return 1.0 / (1.0 + math.exp(-logit)), round(OFFSET - FACTOR * logit), _factors(row, terms, top)


def logits(model: Model, rows: Sequence[Mapping[str, float | None]]) -> list[float]:
    """The model's uncalibrated logits, added left to right as in `score`."""
    total = np.zeros(len(rows))
    for f in FEATURES:
        total = total + model.coefficients[f] * woe_values(model.bins[f], [r[f] for r in rows])
    out: list[float] = (model.intercept + total).tolist()
    return out


def score_batch(model: Model, rows: Sequence[Mapping[str, float | None]], top: int = 3) -> list[Scored]:
    """`score` for many members at once, equal to it member by member to the last bit: the WoE columns are
    looked up with numpy, the contributions added left to right (as Python's sum() adds them in `score`),
    the same products and roundings (`_top_factors`), and `math.exp` / `math.log` per member as in `score`
    (numpy's exp may differ from the C library's in the last bit)."""
    if not rows:
        return []
    with _collector_paused():
        return _score_batch(model, rows, top)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a batch's answers are built: 100k members make ~400k new
    dicts and lists (no cycles among them), and each of the collector's passes then walks every live object
    again, more than half of the scoring's time. Turned back on only if it was on (a nested or concurrent
    batch leaves it to the outermost one)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _score_batch(model: Model, rows: Sequence[Mapping[str, float | None]], top: int) -> list[Scored]:
    columns = _columns(rows)
    terms = np.column_stack([model.coefficients[f] * woe_values(model.bins[f], columns[f]) for f in FEATURES])
    total = np.zeros(len(rows))
    for j in range(len(FEATURES)):
        total = total + terms[:, j]
    raw = model.intercept + total
    if model.isotonic is not None:  # the step PDs of the whole column at once, as `isotonic_pd` one by one
        xs, ys = model.isotonic
        steps = np.minimum(np.maximum(np.interp(raw, xs, ys), PD_FLOOR), 1.0 - PD_FLOOR).tolist()
        z_values = [math.log(pd / (1.0 - pd)) for pd in steps]  # terms as the model has them (_calibrated)
    elif model.platt is not None:
        a, b = model.platt
        z_values = [a + b * logit for logit in raw.tolist()]
        terms = b * terms
    else:
        z_values = raw.tolist()
    return [
        (1.0 / (1.0 + math.exp(-z)), round(OFFSET - FACTOR * z), factors)
        for z, factors in zip(z_values, _top_factors(rows, terms, top), strict=True)
    ]


# `_factors` keeps a term when round(FACTOR · term, 1) > 0. Far from the 0.05 where that flips, numpy's
# comparison decides; between these bounds Python's round itself does, so the choice is exactly `_factors`'.
_SURELY_COSTLY, _SURELY_NOT = 0.06, 0.04


def _top_factors(
    rows: Sequence[Mapping[str, float | None]], terms: np.ndarray, top: int
) -> list[list[dict[str, object]]]:
    """`_factors` of every row (terms: rows × FEATURES), chosen with numpy: the costly terms, sorted by term
    descending then feature order (a stable sort of −term), the first `top`; their points rounded by Python."""
    cost = FACTOR * terms
    costly = cost > _SURELY_COSTLY
    for i, j in zip(*np.nonzero((cost >= _SURELY_NOT) & ~costly), strict=True):
        costly[i, j] = round(float(cost[i, j]), 1) > 0
    order = np.argsort(np.where(costly, -terms, np.inf), axis=1, kind="stable")[:, :top]
    counts = np.minimum(costly.sum(axis=1), top).tolist()
    points = np.take_along_axis(-FACTOR * terms, order, axis=1).tolist()
    return [
        [
            {"feature": FEATURES[i], "value": row[FEATURES[i]], "points": round(p, 1)}
            for i, p in zip(chosen[:n], cost_points[:n], strict=True)
        ]
        for row, n, chosen, cost_points in zip(rows, counts, order.tolist(), points, strict=True)
    ]


def platt(raw_logits: Sequence[float], labels: Sequence[int]) -> tuple[float, float] | None:
    """Platt scaling: the (a, b) of an unpenalised logistic regression of the labels on the logits, fitted on
    a held-out month. None with one class only, or when b ≤ 0 (the month ranks the opposite way: scaling
    would turn the scores round)."""
    if len(set(labels)) < 2:
        return None
    from sklearn.linear_model import LogisticRegression  # heavy import: only when a model is fitted

    regression = LogisticRegression(C=1e6, solver="lbfgs", tol=1e-10, max_iter=10_000)
    with _one_blas_thread():
        regression.fit(
            np.asarray(raw_logits, dtype=np.float64).reshape(-1, 1), np.asarray(labels, dtype=np.int64)
        )
    a, b = float(regression.intercept_[0]), float(regression.coef_[0][0])
    return (a, b) if b > 0 else None


def isotonic(
    raw_logits: Sequence[float], labels: Sequence[int]
) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """Isotonic calibration: the non-decreasing step function of the logit closest to the labels in squared
    error (pool-adjacent-violators over the distinct logits, each weighted by its members; scikit-learn's
    IsotonicRegression), fitted on a held-out month; its step points (logit, bad rate), where it changes.
    None with one class only, or when the fit is one flat block (the month shows no order: every member
    would get its bad rate)."""
    if len(set(labels)) < 2:
        return None
    from sklearn.isotonic import IsotonicRegression  # heavy import: only when a model is fitted

    regression = IsotonicRegression(increasing=True, out_of_bounds="clip", y_min=0.0, y_max=1.0)
    regression.fit(np.asarray(raw_logits, dtype=np.float64), np.asarray(labels, dtype=np.float64))
    xs = tuple(float(v) for v in regression.X_thresholds_)
    ys = tuple(float(v) for v in regression.y_thresholds_)
    return (xs, ys) if len(set(ys)) > 1 else None


def calibrate(
    model: Model,
    rows: Sequence[Mapping[str, float | None]],
    labels: Sequence[int],
    method: str = CALIBRATION_METHODS[0],
) -> Model:
    """The model calibrated on (rows, labels) of a later month by `method` (isotonic or platt); uncalibrated
    if it cannot be (see `isotonic`, `platt`)."""
    raw = logits(model, rows)
    if method == "isotonic":
        return replace(model, platt=None, isotonic=isotonic(raw, labels))
    if method == "platt":
        return replace(model, platt=platt(raw, labels), isotonic=None)
    raise ValueError(f"unknown calibration method {method!r}")


def brier(probabilities: Sequence[float], labels: Sequence[int]) -> float | None:
    """Mean squared difference between the predicted probability and the outcome (0 or 1)."""
    if not probabilities:
        return None
    return sum((p - y) ** 2 for p, y in zip(probabilities, labels, strict=True)) / len(probabilities)


def link_features(links: Mapping[tuple[str, str], Decimal]) -> dict[str, dict[str, float | None]]:
    """Per enterprise on the network: distinct suppliers (it paid) and buyers (paid it), and the largest
    buyer's share of what it received (dependence on one customer; missing without receipts)."""
    suppliers: dict[str, int] = {}
    buyers: dict[str, int] = {}
    received: dict[str, Decimal] = {}
    largest: dict[str, Decimal] = {}
    for (payer, payee), weight in links.items():
        suppliers[payer] = suppliers.get(payer, 0) + 1
        buyers[payee] = buyers.get(payee, 0) + 1
        received[payee] = received.get(payee, Decimal(0)) + weight
        largest[payee] = max(largest.get(payee, Decimal(0)), weight)
    out = {}
    for uscc in suppliers.keys() | buyers.keys():
        total = received.get(uscc, Decimal(0))
        out[uscc] = {
            "suppliers": float(suppliers.get(uscc, 0)),
            "buyers": float(buyers.get(uscc, 0)),
            "top_buyer_share": float(largest[uscc] / total) if total > 0 else None,
        }
    return out


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
    """Largest gap between the cumulative shares of bad and good ones over the probability thresholds.

    On columns: a stable sort by probability descending (ties in the given order), running counts (whole
    numbers, exact in floats), the gap after each last member of a probability, as a loop would add it."""
    if len(probabilities) != len(labels):
        raise ValueError("ks: probabilities and labels differ in length")
    total_bad = sum(labels)
    total_good = len(labels) - total_bad
    if not total_bad or not total_good:
        return None
    p = np.asarray(probabilities, dtype=np.float64)
    order = np.argsort(-p, kind="stable")
    y = np.asarray(labels, dtype=np.float64)[order]
    bad, good = np.cumsum(y), np.cumsum(1.0 - y)
    ranked = p[order]
    last = np.append(ranked[1:] != ranked[:-1], True)  # only between distinct probabilities
    gaps = np.abs(bad[last] / total_bad - good[last] / total_good)
    return max(0.0, float(gaps.max()))


def calibration(
    probabilities: Sequence[float], labels: Sequence[int], groups: int = 5
) -> list[dict[str, float]]:
    """Mean predicted probability against the observed bad rate, in groups of equal size by probability
    (group g holds the members n·g/groups .. n·(g+1)/groups − 1 of the ascending order, rounded down);
    `groups=10` is the reliability table by decile. Members of equal probability keep the order they are
    given in (USCC order in the answers), never their labels': sorting ties good-first would put a tied
    block's bad ones into the riskier group and show an error that is not the model's."""
    if len(probabilities) != len(labels):
        raise ValueError("calibration: probabilities and labels differ in length")
    order = np.argsort(np.asarray(probabilities, dtype=np.float64), kind="stable")  # ties: given order
    p = [probabilities[i] for i in order.tolist()]
    y = [labels[i] for i in order.tolist()]
    n, out = len(p), []
    for g in range(groups):
        low, high = n * g // groups, n * (g + 1) // groups
        if high > low:  # Python's sum, left to right over the same order: the same float as a loop
            count = high - low
            out.append(
                {"count": count, "predicted": sum(p[low:high]) / count, "observed": sum(y[low:high]) / count}
            )
    return out
