"""The column-wise scorecard (`fit` on columns, `score_batch`, `auc` by binary search) against the member by
member definitions: the per-member `score`, a brute-force binning and the pairwise Mann-Whitney count."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.chain import scorecard, scoring

from .lake import rows, write


def _random_rows(seed: int, n: int) -> tuple[list[dict[str, float | None]], list[int]]:
    """Features with many ties (counts), missing values and a label that depends on two of them."""
    rng = random.Random(seed)
    out, labels = [], []
    for _ in range(n):
        row: dict[str, float | None] = {
            "headcount_change": None if rng.random() < 0.2 else round(rng.gauss(0, 0.3), 2),
            "tax_change": None if rng.random() < 0.3 else rng.gauss(0, 0.5),
            "open_cases": float(rng.choice([0, 0, 0, 0, 1, 2])),
            "paying_months": float(rng.randint(0, 6)),
            "pagerank_supplier": None if rng.random() < 0.1 else rng.random() / 1000,
            "pagerank_buyer": None if rng.random() < 0.1 else rng.random() / 1000,
            "suppliers": float(rng.randint(0, 5)),
            "buyers": float(rng.randint(0, 5)),
            "top_buyer_share": None if rng.random() < 0.2 else round(rng.random(), 2),
        }
        risk = 0.8 * float(row["open_cases"] or 0) - 0.4 * float(row["paying_months"] or 0) + 0.5
        labels.append(int(rng.random() < 1 / (1 + math.exp(-risk))))
        out.append(row)
    return out, labels


def _brute_bins(values: list[float | None], labels: list[int], cuts: list[float]) -> list[tuple[int, int]]:
    """(good, bad) per bin, every member placed by hand: below the first cut it reaches, missing last."""
    cells = [[0, 0] for _ in range(len(cuts) + 2)]
    for v, y in zip(values, labels, strict=True):
        slot = len(cuts) + 1 if v is None else next((i for i, c in enumerate(cuts) if v < c), len(cuts))
        cells[slot][y] += 1
    return [(g, b) for g, b in cells]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bins_match_a_member_by_member_placement(seed: int) -> None:
    data, labels = _random_rows(seed, 2000)
    for feature in scorecard.FEATURES:
        values = [r[feature] for r in data]
        bins = scorecard.fit_bins(values, labels)
        cuts = [float(b.upper) for b in bins[:-2] if b.upper is not None]
        assert [(b.good, b.bad) for b in bins] == _brute_bins(values, labels, cuts)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_score_batch_equals_scoring_member_by_member(seed: int) -> None:
    data, labels = _random_rows(seed, 3000)
    model = scorecard.fit(data, labels)
    held_out, _ = _random_rows(seed + 100, 3000)
    assert scorecard.score_batch(model, held_out) == [scorecard.score(model, r) for r in held_out]


def test_auc_equals_the_pairwise_count() -> None:
    rng = random.Random(5)
    probabilities = [rng.choice([0.1, 0.2, 0.25, 0.5, 0.9]) + rng.choice([0, 0, 0.01]) for _ in range(600)]
    labels = [int(rng.random() < p) for p in probabilities]
    bad = [p for p, y in zip(probabilities, labels, strict=True) if y]
    good = [p for p, y in zip(probabilities, labels, strict=True) if not y]
    wins = sum((b > g) + 0.5 * (b == g) for b in bad for g in good)
    assert scorecard.auc(probabilities, labels) == wins / (len(bad) * len(good))


def test_on_the_chain_region_the_batch_equals_the_per_member_path(tmp_path: Path) -> None:
    write(Lake(tmp_path), rows())
    engine = DuckDBEngine(tmp_path)
    try:
        _, train_x, train_y = scoring.dataset(engine, "new_display", "2023-09")
        _, test_x, _ = scoring.dataset(engine, "new_display", "2024-03")
    finally:
        engine.close()
    model = scorecard.fit(train_x, train_y)
    assert len(test_x) == 5
    assert scorecard.score_batch(model, test_x) == [scorecard.score(model, x) for x in test_x]


@pytest.mark.parametrize("method", scorecard.CALIBRATION_METHODS)
def test_calibrated_score_batch_equals_scoring_member_by_member(method: str) -> None:
    data, labels = _random_rows(4, 3000)
    later, later_labels = _random_rows(5, 3000)
    model = scorecard.calibrate(scorecard.fit(data, labels), later, later_labels, method)
    assert (model.isotonic if method == "isotonic" else model.platt) is not None
    held_out, _ = _random_rows(6, 2000)
    for top in (0, 1, 3, len(scorecard.FEATURES)):
        assert scorecard.score_batch(model, held_out, top) == [
            scorecard.score(model, r, top) for r in held_out
        ]


def test_a_factor_costing_about_a_twentieth_of_a_point_is_chosen_as_round_chooses() -> None:
    """A term whose cost in points lies around 0.05, where round(cost, 1) > 0 flips (costs a few units in
    the last place apart, and a wider grid): the batch keeps or drops the factor as `score` does."""
    data, labels = _random_rows(7, 1000)
    model = scorecard.fit(data, labels)
    row = next(r for r in data if scorecard.woe_of(model.bins["open_cases"], r["open_cases"]) != 0)
    woe = scorecard.woe_of(model.bins["open_cases"], row["open_cases"])
    flip = 0.05 / scorecard.FACTOR / woe  # the coefficient whose term costs about 0.05 points
    near = [flip]
    for _ in range(40):
        near = [math.nextafter(near[0], -math.inf), *near, math.nextafter(near[-1], math.inf)]
    grid = [flip * (1 + k / 1000) for k in range(-20, 21)]
    kept = set()
    for coefficient in near + grid:
        costed = scorecard.Model(
            model.bins, model.intercept, {**model.coefficients, "open_cases": coefficient}
        )
        batch = scorecard.score_batch(costed, [row], len(scorecard.FEATURES))
        assert batch == [scorecard.score(costed, row, len(scorecard.FEATURES))]
        kept.add(any(f["feature"] == "open_cases" for f in batch[0][2]))
    assert kept == {True, False}  # both sides of the flip were tried


def _ks_loop(probabilities: list[float], labels: list[int]) -> float:
    """KS as a loop over the members by probability descending (ties in the given order)."""
    order = sorted(zip(probabilities, labels, strict=True), key=lambda t: -t[0])
    total_bad = sum(labels)
    total_good = len(labels) - total_bad
    best = bad = good = 0.0
    for i, (p, y) in enumerate(order):
        bad, good = bad + y, good + 1 - y
        if i + 1 == len(order) or order[i + 1][0] != p:
            best = max(best, abs(bad / total_bad - good / total_good))
    return best


def _groups_loop(probabilities: list[float], labels: list[int], groups: int) -> list[dict[str, float]]:
    order = sorted(zip(probabilities, labels, strict=True), key=lambda t: t[0])
    parts = [order[len(order) * g // groups : len(order) * (g + 1) // groups] for g in range(groups)]
    return [
        {
            "count": len(part),
            "predicted": sum(p for p, _ in part) / len(part),
            "observed": sum(y for _, y in part) / len(part),
        }
        for part in parts
        if part
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_ks_and_calibration_equal_their_loops_to_the_bit(seed: int) -> None:
    rng = random.Random(seed)
    probabilities = [round(rng.random(), rng.choice([2, 3, 12])) for _ in range(5001)]  # many ties
    labels = [int(rng.random() < p) for p in probabilities]
    assert scorecard.ks(probabilities, labels) == _ks_loop(probabilities, labels)
    for groups in (1, 5, 10, 7000):
        assert scorecard.calibration(probabilities, labels, groups) == _groups_loop(
            probabilities, labels, groups
        )


def test_calibration_keeps_tied_members_in_the_given_order() -> None:
    """Four members of one probability, bad ones last: the lower half holds the first two (both good)."""
    groups = scorecard.calibration([0.5, 0.5, 0.5, 0.5], [0, 0, 1, 1], groups=2)
    assert [g["observed"] for g in groups] == [0.0, 1.0]
    assert scorecard.calibration([0.5, 0.5, 0.5, 0.5], [1, 1, 0, 0], groups=2)[0]["observed"] == 1.0
