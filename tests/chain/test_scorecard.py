"""Scorecard pieces on hand-computed cases, and the held-out evaluation through the API."""

from __future__ import annotations

import math

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


def test_bins_are_quantiles_plus_a_missing_bin() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, None]
    labels = [1, 1, 0, 0, 0, 0, 0, 1, 1]
    bins = scorecard.fit_bins(values, labels)
    # cut points at the 2nd, 4th and 6th of 8 sorted values: 3, 5, 7
    assert [b.upper for b in bins] == [3.0, 5.0, 7.0, math.inf, None]
    assert [(b.good, b.bad) for b in bins] == [(1, 2), (2, 0), (2, 0), (0, 1), (0, 1)]
    assert scorecard.woe_of(bins, 4.5) == bins[1].woe and scorecard.woe_of(bins, None) == bins[4].woe


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
    labels = [int(r["open_cases"] >= 2) for r in rows_]
    model = scorecard.fit(rows_, labels)
    risky, _, factors = scorecard.score(model, rows_[3])
    safe, points, _ = scorecard.score(model, rows_[0])
    assert risky > 0.5 > safe and points > 600 - 20
    assert factors[0]["feature"] == "open_cases"


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
