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
