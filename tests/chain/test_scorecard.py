"""Scorecard pieces on hand-computed cases, and the held-out evaluation through the API."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.chain import scorecard
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import login, make_org, make_user

from .lake import rows, write


def test_woe_is_the_log_ratio_of_smoothed_shares() -> None:
    # 3 of 8 goods and 1 of 2 bads: ln((3.5/9) / (1.5/3)) = ln(0.7778) = -0.2513
    assert scorecard.woe(3, 1, 8, 2) == pytest.approx(math.log((3.5 / 9) / (1.5 / 3)))


def _noisy() -> tuple[list[float | None], list[int]]:
    """0..39: below 20 good except 3, from 20 bad except 30; then two missing values, one bad, one good."""
    values: list[float | None] = [float(i) for i in range(40)]
    labels = [int(i >= 20) if i not in (3, 30) else int(i < 20) for i in range(40)]
    return [*values, None, None], [*labels, 1, 0]


def test_optimal_bins_split_where_the_classes_change() -> None:
    values, labels = _noisy()
    bins = scorecard.fit_bins(values, labels)
    # One cut between 19 and 20 separates 19 good + 1 bad from 1 good + 19 bad (quartiles would cut at
    # 10, 20 and 30 and mix them); missing values get their own bin.
    assert [b.upper for b in bins] == [19.5, math.inf, None]
    assert [(b.good, b.bad) for b in bins] == [(19, 1), (1, 19), (1, 1)]
    # 21 goods and 21 bads: ln((19.5/22) / (1.5/22)) = ln 13
    assert bins[0].woe == pytest.approx(math.log(13))
    assert bins[1].woe == pytest.approx(-math.log(13)) and bins[2].woe == pytest.approx(0.0)
    # a bin holds values from its lower cut up to, not including, its upper cut
    assert scorecard.woe_of(bins, 19.4) == bins[0].woe and scorecard.woe_of(bins, 19.5) == bins[1].woe
    assert scorecard.woe_of(bins, None) == bins[2].woe


def test_a_feature_without_spread_or_without_mixed_bins_gets_one_bin() -> None:
    bins = scorecard.fit_bins([2.0, 2.0, 2.0, None], [1, 0, 0, 1])
    assert [(b.upper, b.good, b.bad) for b in bins] == [(math.inf, 2, 1), (None, 0, 1)]
    # optbinning keeps at least one good and one bad in every bin, so a perfect separator is not split
    perfect = scorecard.fit_bins([float(i) for i in range(20)], [int(i >= 10) for i in range(20)])
    assert [b.upper for b in perfect] == [math.inf, None]


def test_the_fit_is_the_penalised_maximum_likelihood() -> None:
    values, labels = _noisy()
    rows_ = [{f: 0.0 for f in scorecard.FEATURES} | {"open_cases": v} for v in values]
    model = scorecard.fit(rows_, labels, l2=1.0)
    # First-order conditions of Σ log-loss + ½‖β‖² (intercept free): Σ(p − y) = 0 and Σ(p − y)·x + β = 0.
    x = [scorecard.woe_of(model.bins["open_cases"], v) for v in values]
    beta = model.coefficients["open_cases"]
    p = [1 / (1 + math.exp(-(model.intercept + beta * xi))) for xi in x]
    residual = [pi - yi for pi, yi in zip(p, labels, strict=True)]
    assert sum(residual) == pytest.approx(0.0, abs=1e-6)
    assert sum(r * xi for r, xi in zip(residual, x, strict=True)) + beta == pytest.approx(0.0, abs=1e-6)
    assert beta < 0  # a higher weight of evidence (more goods) lowers the chance of distress


def test_points_band_and_top_factors_by_hand() -> None:
    cases = [
        scorecard.Bin(1.0, 0.5, 3, 1),
        scorecard.Bin(math.inf, -1.0, 1, 3),
        scorecard.Bin(None, 0.0, 0, 0),
    ]
    flat = [scorecard.Bin(math.inf, 0.0, 4, 4), scorecard.Bin(None, 0.0, 0, 0)]
    bins = {f: flat for f in scorecard.FEATURES} | {"open_cases": cases}
    coefficients = dict.fromkeys(scorecard.FEATURES, 0.0) | {"open_cases": -1.0}
    model = scorecard.Model(bins, -math.log(50), coefficients)
    row = dict.fromkeys(scorecard.FEATURES, 0.0)
    # No open case: logit = -ln 50 - 0.5, points = 600 + 20/ln2 · 0.5 = 614.43 -> 614, band B
    probability, points, factors = scorecard.score(model, row | {"open_cases": 0.0})
    assert (points, scorecard.band(points), factors) == (614, "B", [])  # nothing costs it points
    assert probability == pytest.approx(1 / (1 + 50 * math.exp(0.5)))
    # Two open cases: logit = -ln 50 + 1, points = 600 - 28.85 = 571, band C; open_cases costs 28.9 points
    _, points, factors = scorecard.score(model, row | {"open_cases": 2.0})
    assert (points, scorecard.band(points)) == (571, "C")
    assert factors == [{"feature": "open_cases", "value": 2.0, "points": -28.9}]
    assert [scorecard.band(p) for p in (640, 639, 600, 560, 520, 519)] == ["A", "B", "B", "C", "D", "E"]


def test_link_features_by_hand() -> None:
    links = {("a", "b"): Decimal(100), ("c", "b"): Decimal(300), ("b", "d"): Decimal(50)}
    found = scorecard.link_features(links)
    assert found["b"] == {"suppliers": 1.0, "buyers": 2.0, "top_buyer_share": 0.75}
    assert found["a"] == {"suppliers": 1.0, "buyers": 0.0, "top_buyer_share": None}
    assert found["d"]["top_buyer_share"] == 1.0


def test_auc_and_ks_agree_with_scikit_learn_and_scipy() -> None:
    from scipy.stats import ks_2samp
    from sklearn.metrics import roc_auc_score

    rng = random.Random(7)
    labels = [rng.random() < 0.3 for _ in range(200)]
    probabilities = [round(rng.random() * (0.5 + 0.4 * y), 2) for y in labels]  # rounded: ties happen
    y = [int(v) for v in labels]
    assert scorecard.auc(probabilities, y) == pytest.approx(roc_auc_score(y, probabilities))
    bad = [p for p, v in zip(probabilities, y, strict=True) if v]
    good = [p for p, v in zip(probabilities, y, strict=True) if not v]
    assert scorecard.ks(probabilities, y) == pytest.approx(ks_2samp(bad, good).statistic)


def test_auc_ks_and_calibration_by_hand() -> None:
    probabilities = [0.9, 0.8, 0.8, 0.3, 0.1]
    labels = [1, 0, 1, 0, 0]
    # bad ones 0.9, 0.8 against good ones 0.8, 0.3, 0.1: wins 3 + (0.5 + 1 + 1) = 5.5 of 6
    assert scorecard.auc(probabilities, labels) == pytest.approx(5.5 / 6)
    # after 0.9: bad 1/2, good 0 -> 0.5; after the two 0.8: bad 1, good 1/3 -> 0.6667
    assert scorecard.ks(probabilities, labels) == pytest.approx(2 / 3)
    groups = scorecard.calibration(probabilities, labels, groups=2)
    assert groups == [
        {"count": 2, "predicted": pytest.approx(0.2), "observed": 0.0},
        {"count": 3, "predicted": pytest.approx(2.5 / 3), "observed": pytest.approx(2 / 3)},
    ]
    assert scorecard.auc([0.5], [1]) is None and scorecard.ks([0.5, 0.4], [0, 0]) is None


def test_fit_ranks_a_risky_feature_as_risky() -> None:
    rows_ = [{f: 0.0 for f in scorecard.FEATURES} | {"open_cases": float(i % 4)} for i in range(40)]
    # bad from two open cases on, with one exception each way: optbinning wants both classes in every bin
    labels = [int(r["open_cases"] >= 2) ^ (i in (0, 3)) for i, r in enumerate(rows_)]
    model = scorecard.fit(rows_, labels)
    assert [b.upper for b in model.bins["open_cases"]] == [1.5, math.inf, None]
    risky, safe = scorecard.score(model, rows_[7]), scorecard.score(model, rows_[4])
    assert risky[0] > 0.5 > safe[0] and safe[1] > risky[1]
    assert [f["feature"] for f in risky[2]] == ["open_cases"] and safe[2] == []


@pytest.fixture
def analyst(client: TestClient, session: Session, settings: Settings) -> dict[str, str]:
    user = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST)
    session.commit()
    write(Lake(settings.lake_dir), rows())
    return login(client, user.username)


def test_the_api_trains_on_one_month_and_evaluates_a_later_one(
    client: TestClient, analyst: dict[str, str]
) -> None:
    url = "/api/v1/chains/new_display/scorecard"
    resp = client.get(url, headers=analyst, params={"train_month": "2023-09", "test_month": "2024-03"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    # As of 2024-03 (six months after 2023-09): m2 lost half its staff, d1 has an open case, r1 no head-count.
    assert (body["train_size"], body["train_bad"]) == (5, 3)
    assert body["test_size"] == 5 and len(body["items"]) == 5
    assert set(body["coefficients"]) == set(scorecard.FEATURES)
    near = client.get(url, headers=analyst, params={"train_month": "2024-01", "test_month": "2024-03"})
    assert near.status_code == 422 and near.json()["errors"][0]["field"] == "test_month"
