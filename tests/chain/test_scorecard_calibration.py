"""The binning on informative, noisy features (more than one bin, monotonic, no bin under 5 %), Platt scaling
on a held-out month, the Brier score by hand, and the API's calibration month."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.chain import scorecard, scoring
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Role
from tests.fixtures.auth import login, make_org, make_user

from .lake import rows, write


def _declining(seed: int, n: int) -> tuple[list[float | None], list[int]]:
    """Head-count change as the generator plants it: most members near 0, a sixth shrinking; the shrinking
    ones turn bad six months later with 70 %, the others with 8 % (noise); a tenth missing, bad with 30 %."""
    rng = random.Random(seed)
    values: list[float | None] = []
    labels = []
    for _ in range(n):
        if rng.random() < 0.1:
            values.append(None)
            labels.append(int(rng.random() < 0.3))
        elif rng.random() < 1 / 6:
            values.append(round(rng.uniform(-0.5, -0.1), 3))
            labels.append(int(rng.random() < 0.7))
        else:
            values.append(round(rng.gauss(0.01, 0.06), 3))
            labels.append(int(rng.random() < 0.08))
    return values, labels


def test_an_informative_feature_gets_more_than_one_bin_monotonic_and_none_small() -> None:
    values, labels = _declining(11, 600)
    bins = scorecard.fit_bins(values, labels)
    present = bins[:-1]
    assert len(present) >= 2 and bins[-1].upper is None  # the missing-value bin is always last
    rates = [b.bad / (b.good + b.bad) for b in present]
    # the lower the change, the riskier: bad rates fall from the first bin to the last
    assert rates == sorted(rates, reverse=True) and rates[0] > 0.5 > 0.15 > rates[-1]
    n_present = sum(v is not None for v in values)
    assert all(b.good + b.bad >= scorecard.MIN_BIN_SHARE * n_present for b in present)
    # the counts per bin are the values between the cuts
    cuts = [b.upper for b in present[:-1]]
    x = np.array([math.nan if v is None else v for v in values])
    y = np.array(labels)
    for i, b in enumerate(present):
        low = -math.inf if i == 0 else cuts[i - 1]
        inside = (x >= low) & (x < (b.upper if b.upper is not None else math.inf))
        assert (b.bad, b.good) == (int(y[inside].sum()), int((~y[inside].astype(bool)).sum()))


def test_noise_alone_gets_one_bin() -> None:
    # Neighbouring bins must differ at p ≤ 0.05, so pure noise is left in one bin (plus the missing-value
    # bin). A chance cut remains possible at that level: seed 5 of this generator gets one.
    for seed in (6, 7, 8):
        rng = random.Random(seed)
        values: list[float | None] = [rng.gauss(0, 1) for _ in range(400)]
        labels = [int(rng.random() < 0.1) for _ in range(400)]
        assert [b.upper for b in scorecard.fit_bins(values, labels)] == [math.inf, None]


def test_brier_by_hand() -> None:
    # (0.9 − 1)² + (0.8 − 0)² + (0.8 − 1)² + (0.3 − 0)² + (0.1 − 0)² = 0.01 + 0.64 + 0.04 + 0.09 + 0.01 = 0.79
    assert scorecard.brier([0.9, 0.8, 0.8, 0.3, 0.1], [1, 0, 1, 0, 0]) == pytest.approx(0.79 / 5)
    assert scorecard.brier([], []) is None


def _model_of(values: list[float | None], labels: list[int]) -> tuple[scorecard.Model, list[dict]]:
    rows_ = [dict.fromkeys(scorecard.FEATURES, 0.0) | {"headcount_change": v} for v in values]
    return scorecard.fit(rows_, labels), rows_


def test_platt_scaling_solves_its_likelihood_and_keeps_the_ranking() -> None:
    values, labels = _declining(3, 600)
    model, _ = _model_of(values, labels)
    later_values, later_labels = _declining(4, 600)
    later_labels = [1 if y or i % 7 == 0 else 0 for i, y in enumerate(later_labels)]  # the base rate rose
    _, later_rows = _model_of(later_values, later_labels)
    calibrated = scorecard.calibrate(model, later_rows, later_labels, "platt")
    assert calibrated.platt is not None and calibrated.isotonic is None
    a, b = calibrated.platt
    # First-order conditions of the (practically unpenalised) log-likelihood: Σ(p − y) = 0, Σ(p − y)·z = 0
    z = scorecard.logits(model, later_rows)
    p = [1 / (1 + math.exp(-(a + b * zi))) for zi in z]
    residual = [pi - yi for pi, yi in zip(p, later_labels, strict=True)]
    assert sum(residual) == pytest.approx(0.0, abs=1e-4)
    assert sum(r * zi for r, zi in zip(residual, z, strict=True)) == pytest.approx(0.0, abs=1e-4)
    # the calibrated mean PD equals the month's bad rate; the order of the members is unchanged
    assert sum(p) / len(p) == pytest.approx(sum(later_labels) / len(later_labels), abs=1e-6)
    before = [s[0] for s in scorecard.score_batch(model, later_rows)]
    after = scorecard.score_batch(calibrated, later_rows)
    assert scorecard.auc(before, later_labels) == scorecard.auc([s[0] for s in after], later_labels)
    # batch and member by member agree to the bit, points follow the calibrated PD, factors are scaled by b
    assert after == [scorecard.score(calibrated, r) for r in later_rows]
    probability, points, factors = after[0]
    logit = math.log(probability / (1 - probability))
    assert points == round(scorecard.OFFSET - scorecard.FACTOR * logit)
    term = model.coefficients["headcount_change"] * scorecard.woe_of(
        model.bins["headcount_change"], later_rows[0]["headcount_change"]
    )
    expected = [] if round(scorecard.FACTOR * b * term, 1) <= 0 else [round(-scorecard.FACTOR * b * term, 1)]
    assert [f["points"] for f in factors if f["feature"] == "headcount_change"] == expected


def test_platt_is_refused_with_one_class_or_a_reversed_ranking() -> None:
    assert scorecard.platt([0.1, 0.2, 0.3], [0, 0, 0]) is None
    assert scorecard.platt([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0], [1, 1, 1, 0, 0, 0]) is None
    fitted = scorecard.platt([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0], [0, 0, 1, 0, 1, 1])
    assert fitted is not None and fitted[1] > 0


def test_isotonic_is_pool_adjacent_violators_by_hand() -> None:
    # labels 0, 1, 0, 0, 1, 1 at logits −2..3: 1 > 0 violates, pooled (1 + 0)/2 = 0.5 still > 0, pooled
    # (1 + 0 + 0)/3 = 1/3; then 1, 1. Steps: 0 at −2; 1/3 from −1 to 1; 1 from 2.
    steps = scorecard.isotonic([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0], [0, 1, 0, 0, 1, 1])
    assert steps is not None
    expected = {
        -3.0: 0.001,  # below the first point: its PD 0, clamped to PD_FLOOR
        -2.0: 0.001,
        -1.5: 1 / 6,  # halfway between (−2, 0) and (−1, 1/3)
        -1.0: 1 / 3,
        0.0: 1 / 3,
        1.0: 1 / 3,
        1.5: 2 / 3,  # halfway between (1, 1/3) and (2, 1)
        2.0: 0.999,  # 1, clamped to 1 − PD_FLOOR
        9.0: 0.999,
    }
    for logit, pd in expected.items():
        assert scorecard.isotonic_pd(steps, logit) == pytest.approx(pd, abs=1e-12), logit
    # Equal logits are one point weighted by its members: 0 holds 1 bad of 3 (1/3), 1 holds 1 of 2 (1/2).
    tied = scorecard.isotonic([0.0, 0.0, 0.0, 1.0, 1.0], [1, 0, 0, 0, 1])
    assert tied is not None
    assert [scorecard.isotonic_pd(tied, z) for z in (0.0, 1.0)] == pytest.approx([1 / 3, 1 / 2])
    # 0 holds 1 of 2 (0.5) and 1 holds 0 of 2: pooled, 1/4 everywhere — one flat block, refused (the month
    # shows no order); one class only is refused too.
    assert scorecard.isotonic([0.0, 0.0, 1.0, 1.0], [1, 0, 0, 0]) is None
    assert scorecard.isotonic([0.0, 1.0], [0, 0]) is None


def test_an_isotonic_model_scores_the_step_pd_with_the_models_factors() -> None:
    values, labels = _declining(3, 600)
    model, rows_ = _model_of(values, labels)
    raw = scorecard.logits(model, rows_)
    low, high = min(raw), max(raw)
    # steps by hand: PD 0.1 at the lowest logit, 0.5 at the highest, linear in between
    calibrated = replace(model, isotonic=((low, high), (0.1, 0.5)))
    scored = scorecard.score_batch(calibrated, rows_)
    assert scored == [scorecard.score(calibrated, r) for r in rows_]  # batch and one by one, to the bit
    plain = scorecard.score_batch(model, rows_)
    for z, (pd, points, factors), (_, _, raw_factors) in zip(raw, scored, plain, strict=True):
        expected = 0.1 + 0.4 * (z - low) / (high - low)
        assert pd == pytest.approx(expected, abs=1e-12)
        assert points == round(scorecard.OFFSET - scorecard.FACTOR * math.log(expected / (1 - expected)))
        assert factors == raw_factors  # a monotonic map: the factors are the model's own
    # the calibrate() entry point: isotonic is the default and clears Platt
    later_values, later_labels = _declining(4, 600)
    _, later_rows = _model_of(later_values, later_labels)
    both = scorecard.calibrate(replace(model, platt=(0.0, 1.0)), later_rows, later_labels)
    assert both.isotonic is not None and both.platt is None
    with pytest.raises(ValueError, match="calibration method"):
        scorecard.calibrate(model, later_rows, later_labels, "beta")


def test_the_reliability_table_does_not_sort_ties_by_label() -> None:
    # Four members at 0.1, labels 1, 0, 0, 1, in halves: each half keeps the given order, 1 bad of 2 in each.
    # (Sorting ties good-first would show 0 and 1: an error the model does not make.)
    assert scorecard.calibration([0.1] * 4, [1, 0, 0, 1], groups=2) == [
        {"count": 2, "predicted": pytest.approx(0.1), "observed": 0.5},
        {"count": 2, "predicted": pytest.approx(0.1), "observed": 0.5},
    ]
    # deciles of 20 members: PDs 0.00..0.95 by 0.05, bad from 0.50 on; decile d holds 2 members
    pds = [i / 20 for i in range(20)]
    deciles = scorecard.calibration(pds, [int(p >= 0.5) for p in pds], groups=10)
    assert [g["count"] for g in deciles] == [2] * 10
    assert [g["predicted"] for g in deciles] == pytest.approx([(4 * d + 1) / 40 for d in range(10)])
    assert [g["observed"] for g in deciles] == [0.0] * 5 + [1.0] * 5


def test_the_portrait_model_trains_on_m_minus_9_and_calibrates_on_m_minus_6(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Which months the portraits' model uses, with the months' datasets made up (no lake)."""
    months: dict[str, tuple[list[dict], list[int]]] = {}  # type: ignore[type-arg]
    for seed, month in ((3, "2023-09"), (4, "2023-12")):
        values, labels = _declining(seed, 600)
        months[month] = (
            [dict.fromkeys(scorecard.FEATURES, 0.0) | {"headcount_change": v} for v in values],
            labels,
        )
    asked: list[str] = []

    def dataset(engine: object, code: str, month: str) -> tuple[list[str], list[dict], list[int]]:  # type: ignore[type-arg]
        asked.append(month)
        x, y = months[month]
        return [str(i) for i in range(len(y))], x, y

    monkeypatch.setattr(scoring, "dataset", dataset)
    found = scoring.portrait_model(None, "new_display", "2024-06")  # type: ignore[arg-type]
    assert found is not None
    model, about = found
    assert about == {
        "train_month": "2023-09",
        "train_size": 600,
        "train_bad": sum(months["2023-09"][1]),
        "calibration_month": "2023-12",
        "calibration_method": "isotonic",
    }
    expected = scorecard.isotonic(scorecard.logits(model, months["2023-12"][0]), months["2023-12"][1])
    assert model.isotonic == expected and model.platt is None
    # Asked not to calibrate, or M − 9 has one class only: trained on M − 6, not calibrated.
    _, about = scoring.portrait_model(None, "new_display", "2024-06", calibrate=False)  # type: ignore[arg-type,misc]
    assert about["train_month"] == "2023-12" and about["calibration_month"] is None
    months["2023-09"] = (months["2023-09"][0], [0] * 600)
    model, about = scoring.portrait_model(None, "new_display", "2024-06")  # type: ignore[arg-type,misc]
    assert (about["train_month"], about["calibration_method"], model.isotonic) == ("2023-12", None, None)
    # M − 6 with one class only: nothing to calibrate on, nothing to fit on.
    months["2023-12"] = (months["2023-12"][0], [0] * 600)
    assert scoring.portrait_model(None, "new_display", "2024-06") is None  # type: ignore[arg-type]


@pytest.fixture
def analyst(client: TestClient, session: Session, settings: Settings) -> dict[str, str]:
    user = make_user(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST)
    session.commit()
    write(Lake(settings.lake_dir), rows())
    return login(client, user.username)


def test_the_api_checks_and_reports_the_calibration_month(
    client: TestClient, analyst: dict[str, str]
) -> None:
    url = "/api/v1/chains/new_display/scorecard"
    plain = client.get(url, headers=analyst, params={"train_month": "2023-09", "test_month": "2024-03"})
    assert plain.status_code == 200, plain.text
    body = plain.json()
    assert body["calibration_month"] is None and body["platt"] is None and body["isotonic"] is None
    assert body["calibration_method"] is None
    # the reliability table: deciles of the test month by predicted PD, as scorecard.calibration counts them
    observed_all = [int(i["observed_bad"]) for i in body["items"]]
    assert sum(g["count"] for g in body["reliability"]) == len(observed_all)
    assert len(body["reliability"]) == min(10, len(observed_all))
    unknown = client.get(
        url,
        headers=analyst,
        params={"train_month": "2023-09", "test_month": "2024-03", "calibration_method": "beta"},
    )
    assert unknown.status_code == 422
    probabilities = [i["probability"] for i in body["items"]]
    observed = [int(i["observed_bad"]) for i in body["items"]]
    assert body["brier"] == pytest.approx(scorecard.brier(probabilities, observed), abs=1e-5)
    for month in ("2023-09", "2023-10"):  # not after the training month / not 6 months before the test month
        bad = client.get(
            url,
            headers=analyst,
            params={"train_month": "2023-09", "calibration_month": month, "test_month": "2024-03"},
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "calibration_month"
    ok = client.get(
        url,
        headers=analyst,
        params={"train_month": "2023-06", "calibration_month": "2023-09", "test_month": "2024-03"},
    )
    # The months are accepted (checked first); this small lake has no head-count before 2023-09, so 2023-06
    # has distressed members only and the fit is refused on train_month.
    assert ok.status_code == 422 and ok.json()["errors"][0]["field"] == "train_month"
