"""The scorecard use case: train on one as-of month, evaluate and score on a later one (held out)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from jinyu.analytics import Engine
from jinyu.chain import definitions, network, rules, scorecard, service
from jinyu.chain.schemas import ScorecardOut, ScoredOut
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import invalid

HORIZON_MONTHS = 6


def _ratio(now: object, before: object) -> float | None:
    if now is None or before is None or float(str(before)) <= 0:
        return None
    return float(str(now)) / float(str(before)) - 1


def _features(row: Mapping[str, object], rank: network.Centrality | None) -> dict[str, float | None]:
    return {
        "headcount_change": _ratio(row["headcount_now"], row["headcount_before"]),
        "tax_change": _ratio(row["tax_12m"], row["tax_prev_12m"]),
        "open_cases": float(str(row["open_cases"])),
        "paying_months": float(str(row["paying_months"])),
        "pagerank_supplier": rank.pagerank_supplier if rank else None,
        "pagerank_buyer": rank.pagerank_buyer if rank else None,
    }


def dataset(
    engine: Engine, code: str, month: str
) -> tuple[list[str], list[dict[str, float | None]], list[int]]:
    """Members' features as of `month` and their label six months later."""
    p = definitions.load().parameters
    members = service.member_rows(engine, code)
    now = service.health_rows(engine, code, "", month)
    later = service.health_rows(engine, code, "", rules.add_months(month, HORIZON_MONTHS))
    first = rules.add_months(month, 1 - p.network_window_months)
    links = rules.decayed_links(service.link_rows(engine, code, first, month), month, p.decay_per_month)
    ranks = {c.uscc: c for c in network.centrality(links, 0)}
    usccs = sorted(members)
    labels = [int(bool(set(rules.health_flags(later[u], p).flags) & scorecard.BAD_FLAGS)) for u in usccs]
    return usccs, [_features(now[u], ranks.get(u)) for u in usccs], labels


def run(
    session: Session, principal: Principal, engine: Engine, code: str, train_month: str, test_month: str
) -> ScorecardOut:
    principal.require(Perm.CHAIN_READ)
    definitions.load().chain(code)
    if rules.months_between(train_month, test_month) < HORIZON_MONTHS:
        raise invalid(
            "test_month", "评估月须晚于训练月至少 6 个月 / test_month must be ≥ 6 months after train_month"
        )
    _, train_x, train_y = dataset(engine, code, train_month)
    if len(set(train_y)) < 2:
        raise invalid(
            "train_month",
            "训练月须同时有好、坏样本 / the training month needs healthy and distressed members",
        )
    model = scorecard.fit(train_x, train_y)
    usccs, test_x, test_y = dataset(engine, code, test_month)
    scored = scorecard.score_batch(model, test_x)
    probabilities = [s[0] for s in scored]
    items = [
        ScoredOut(uscc=u, probability=round(pr, 6), points=pts, factors=f, observed_bad=bool(y))
        for u, (pr, pts, f), y in zip(usccs, scored, test_y, strict=True)
    ]
    service.audit_read(
        session, principal, "scorecard.read", [code], train_month=train_month, test_month=test_month
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
        intercept=round(model.intercept, 6),
        coefficients={f: round(c, 6) for f, c in model.coefficients.items()},
        bins={
            f: [{"upper": b.upper, "woe": round(b.woe, 6), "good": b.good, "bad": b.bad} for b in bins]
            for f, bins in model.bins.items()
        },
        items=sorted(items, key=lambda i: (-i.probability, i.uscc)),
    )
