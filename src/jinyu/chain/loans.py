"""Financial services to a chain (pure): loans by quarter, segment, bank and term; medium- and long-term share;
quarter-on-quarter growth; manufacturing loans; credit coverage of the members."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from jinyu.chain.definitions import Parameters
from jinyu.chain.rules import ZERO, growth, quarter_of, share, term_class


def _add(acc: dict[str, Decimal], amount: Decimal, count: int) -> None:
    acc["amount"] = acc.get("amount", ZERO) + amount
    acc["count"] = acc.get("count", Decimal(0)) + count


def summarise(
    rows: Iterable[Mapping[str, object]],
    coverage: Iterable[Mapping[str, object]],
    p: Parameters,
    chief_bank_name: str | None,
) -> dict[str, object]:
    quarters: dict[str, dict[str, Decimal]] = defaultdict(dict)
    segments: dict[str, dict[str, Decimal]] = defaultdict(dict)
    banks: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    terms: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for r in rows:
        amount, count = Decimal(str(r["total_amount"])), int(str(r["loan_count"]))
        term = term_class(int(str(r["term_months"])), p)
        q = quarters[quarter_of(str(r["month"]))]
        _add(q, amount, count)
        q["medium_long"] = q.get("medium_long", ZERO) + (amount if term == "medium_long" else ZERO)
        q["manufacturing"] = q.get("manufacturing", ZERO) + (amount if r["manufacturing"] else ZERO)
        _add(segments[str(r["segment"])], amount, count)
        _add(banks[(str(r["head_code"]), str(r["head_name"]))], amount, count)
        _add(terms[term], amount, count)
    by_quarter, prev = [], None
    for quarter in sorted(quarters):
        q = quarters[quarter]
        by_quarter.append(
            {
                "quarter": quarter,
                "loan_count": int(q["count"]),
                "amount": q["amount"],
                "medium_long_amount": q["medium_long"],
                "medium_long_share": share(q["medium_long"], q["amount"]),
                "growth_qoq": growth(q["amount"], prev["amount"]) if prev else None,
                "manufacturing_amount": q["manufacturing"],
                "manufacturing_growth_qoq": growth(q["manufacturing"], prev["manufacturing"])
                if prev
                else None,
            }
        )
        prev = q
    cover = [dict(c) for c in coverage]
    members = sum(int(str(c["members"])) for c in cover)
    with_credit = sum(int(str(c["members_with_credit"])) for c in cover)
    total = sum((q["amount"] for q in quarters.values()), ZERO)
    mlt = sum((q["medium_long"] for q in quarters.values()), ZERO)
    return {
        "total_amount": total,
        "medium_long_share": share(mlt, total),
        "by_quarter": by_quarter,
        "by_segment": [
            {"segment": s, "loan_count": int(v["count"]), "amount": v["amount"]}
            for s, v in sorted(segments.items())
        ],
        "by_bank": [
            {
                "head_code": c,
                "head_name": n,
                "loan_count": int(v["count"]),
                "amount": v["amount"],
                "chain_chief": n == chief_bank_name,
            }
            for (c, n), v in sorted(banks.items(), key=lambda kv: -kv[1]["amount"])
        ],
        "by_term": [
            {"term": t, "loan_count": int(v["count"]), "amount": v["amount"]}
            for t, v in sorted(terms.items())
        ],
        "coverage": [
            {
                "segment": c["segment"],
                "members": c["members"],
                "members_with_credit": c["members_with_credit"],
                "share": share(int(str(c["members_with_credit"])), int(str(c["members"]))),
            }
            for c in cover
        ],
        "coverage_share": share(with_credit, members),
    }
