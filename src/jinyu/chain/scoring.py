"""The scorecard use case: train on one as-of month, evaluate and score on a later one (held out); and the
model behind the scores of a portrait batch (trained on the month six months before the batch's)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy.orm import Session

from jinyu.analytics import Engine
from jinyu.chain import counterparties, definitions, network, rules, scorecard, service
from jinyu.chain.schemas import ScorecardOut, ScoredOut
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import invalid

HORIZON_MONTHS = 6
CALIBRATION_LAG_MONTHS = 3  # a portrait model's training month lies this much before its calibration month


def _ratio(now: object, before: object) -> float | None:
    if now is None or before is None or float(str(before)) <= 0:
        return None
    return float(str(now)) / float(str(before)) - 1


def features(
    row: Mapping[str, object],
    rank: network.Centrality | None,
    links: Mapping[str, float | None] | None,
) -> dict[str, float | None]:
    """One member's features from its health row, its PageRanks and its link features (None: not on the
    network, so no suppliers or buyers)."""
    link = links or {"suppliers": 0.0, "buyers": 0.0, "top_buyer_share": None}
    return {
        "headcount_change": _ratio(row["headcount_now"], row["headcount_before"]),
        "tax_change": _ratio(row["tax_12m"], row["tax_prev_12m"]),
        "open_cases": float(str(row["open_cases"])),
        "paying_months": float(str(row["paying_months"])),
        "pagerank_supplier": rank.pagerank_supplier if rank else None,
        "pagerank_buyer": rank.pagerank_buyer if rank else None,
        **link,
    }


def network_as_of(
    engine: Engine, code: str, month: str
) -> tuple[dict[tuple[str, str], Decimal], dict[str, network.Centrality]]:
    """The decayed supply network as of `month` and its PageRanks (no betweenness: not a feature): the stored
    month when it was built with the current parameters (decayed in SQL at the build), else computed."""
    p = definitions.load().parameters
    links = service.network_links(engine, code, month, p)
    return links, {c.uscc: c for c in network.centrality(links, 0)}


def dataset(
    engine: Engine, code: str, month: str
) -> tuple[list[str], list[dict[str, float | None]], list[int]]:
    """Members' features as of `month` and their label six months later."""
    p = definitions.load().parameters
    members = service.member_rows(engine, code, "")  # membership only: the model has no segment feature
    now = counterparties.health_rows(engine, code, "", month)
    later = counterparties.health_rows(engine, code, "", rules.add_months(month, HORIZON_MONTHS))
    links, ranks = network_as_of(engine, code, month)
    by_link = scorecard.link_features(links)
    usccs = sorted(members)
    labels = [int(bool(set(rules.health_flags(later[u], p).flags) & scorecard.BAD_FLAGS)) for u in usccs]
    return usccs, [features(now[u], ranks.get(u), by_link.get(u)) for u in usccs], labels


def train(engine: Engine, code: str, month: str) -> tuple[scorecard.Model, list[int]] | None:
    """The model fitted on `month` (labels six months later), or None when that month has one class only."""
    _, x, y = dataset(engine, code, month)
    if len(set(y)) < 2:
        return None
    return scorecard.fit(x, y), y


def portrait_model(
    engine: Engine, code: str, as_of_month: str, calibrate: bool = True
) -> tuple[scorecard.Model, dict[str, object]] | None:
    """The model a portrait batch as of M scores with, and what it is (ScoreModelOut's fields).

    Calibrated (the default, `calibrate`): trained on M − 9 (labels at M − 3) and isotonic-calibrated on
    M − 6 (labels at M, known), the held-out scheme of `benchmarks/eval_chain_scorecard.py` (train T,
    calibrate T + 3, score T + 9 = M). When that cannot be (M − 9 or M − 6 has one class, or the isotonic
    fit is flat), or with `calibrate` false: trained on M − 6, uncalibrated. None: no month can be fitted."""
    recent = rules.add_months(as_of_month, -HORIZON_MONTHS)
    _, recent_x, recent_y = dataset(engine, code, recent)
    if calibrate and len(set(recent_y)) > 1:
        earlier = rules.add_months(as_of_month, -HORIZON_MONTHS - CALIBRATION_LAG_MONTHS)
        trained = train(engine, code, earlier)
        if trained is not None:
            model = scorecard.calibrate(trained[0], recent_x, recent_y, "isotonic")
            if model.isotonic is not None:
                return model, {
                    "train_month": earlier,
                    "train_size": len(trained[1]),
                    "train_bad": sum(trained[1]),
                    "calibration_month": recent,
                    "calibration_method": "isotonic",
                }
    if len(set(recent_y)) < 2:
        return None
    info = {"train_month": recent, "train_size": len(recent_y), "train_bad": sum(recent_y)}
    return scorecard.fit(recent_x, recent_y), info | {"calibration_month": None, "calibration_method": None}


def _check_months(train_month: str, test_month: str, calibration_month: str | None) -> None:
    """Held out: the test month's features come ≥ 6 months after the training month (whose labels are then
    known); a calibration month lies after the training month and ≥ 6 months before the test month, so its
    labels are known by the test month and none of the test month's outcomes is used."""
    if rules.months_between(train_month, test_month) < HORIZON_MONTHS:
        raise invalid(
            "test_month", "评估月须晚于训练月至少 6 个月 / test_month must be ≥ 6 months after train_month"
        )
    if calibration_month is not None and not (
        rules.months_between(train_month, calibration_month) >= 1
        and rules.months_between(calibration_month, test_month) >= HORIZON_MONTHS
    ):
        raise invalid(
            "calibration_month",
            "校准月须晚于训练月、早于评估月至少 6 个月 / calibration_month must be after train_month and "
            "≥ 6 months before test_month",
        )


def run(
    session: Session,
    principal: Principal,
    engine: Engine,
    code: str,
    train_month: str,
    test_month: str,
    calibration_month: str | None = None,
    calibration_method: str = scorecard.CALIBRATION_METHODS[0],
) -> ScorecardOut:
    principal.require(Perm.CHAIN_READ)
    definitions.load().chain(code)
    _check_months(train_month, test_month, calibration_month)
    if calibration_method not in scorecard.CALIBRATION_METHODS:
        raise invalid(
            "calibration_method",
            "校准方法须为 isotonic 或 platt / calibration_method must be isotonic or platt",
        )
    trained = train(engine, code, train_month)
    if trained is None:
        raise invalid(
            "train_month",
            "训练月须同时有好、坏样本 / the training month needs healthy and distressed members",
        )
    model, train_y = trained
    if calibration_month is not None:
        _, calibration_x, calibration_y = dataset(engine, code, calibration_month)
        model = scorecard.calibrate(model, calibration_x, calibration_y, calibration_method)
    usccs, test_x, test_y = dataset(engine, code, test_month)
    scored = scorecard.score_batch(model, test_x)
    probabilities = [s[0] for s in scored]
    items = [
        ScoredOut(
            uscc=u,
            probability=round(probability, 6),
            points=points,
            band=scorecard.band(points),
            factors=factors,
            observed_bad=bool(y),
        )
        for u, (probability, points, factors), y in zip(usccs, scored, test_y, strict=True)
    ]
    service.audit_read(
        session,
        principal,
        "scorecard.read",
        [code],
        train_month=train_month,
        test_month=test_month,
        calibration_month=calibration_month,
        calibration_method=calibration_method if calibration_month else None,
    )
    auc, ks = scorecard.auc(probabilities, test_y), scorecard.ks(probabilities, test_y)
    return ScorecardOut(
        chain_code=code,
        train_month=train_month,
        test_month=test_month,
        horizon_months=HORIZON_MONTHS,
        train_size=len(train_y),
        train_bad=sum(train_y),
        test_size=len(test_y),
        test_bad=sum(test_y),
        auc=None if auc is None else round(auc, 4),
        ks=None if ks is None else round(ks, 4),
        calibration=scorecard.calibration(probabilities, test_y),
        brier=None if not probabilities else round(scorecard.brier(probabilities, test_y) or 0.0, 6),
        reliability=scorecard.calibration(probabilities, test_y, groups=10),
        calibration_month=calibration_month,
        calibration_method=_method(model),
        platt=None if model.platt is None else [round(v, 6) for v in model.platt],
        isotonic=None if model.isotonic is None else [[x, y] for x, y in zip(*model.isotonic, strict=True)],
        intercept=round(model.intercept, 6),
        coefficients={f: round(c, 6) for f, c in model.coefficients.items()},
        bins={
            f: [{"upper": b.upper, "woe": round(b.woe, 6), "good": b.good, "bad": b.bad} for b in bins]
            for f, bins in model.bins.items()
        },
        items=sorted(items, key=lambda i: (-i.probability, i.uscc)),
    )


def _method(model: scorecard.Model) -> str | None:
    """How the model is calibrated: `isotonic`, `platt`, or None (not calibrated, or the fit was refused)."""
    return "isotonic" if model.isotonic is not None else "platt" if model.platt is not None else None
