"""Pure rules of chain analytics: months, segment mapping, net flows, link decay, health flags, gaps, loans.

Values in, values out; no database, engine or web. Money stays Decimal; shares are Decimal rounded to 4 places.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from jinyu.chain.definitions import ChainDef, Parameters

ZERO = Decimal("0.00")
SHARE = Decimal("0.0001")


def add_months(month: str, n: int) -> str:
    """'YYYY-MM' plus n months (n may be negative)."""
    y, m = int(month[:4]), int(month[5:7])
    index = y * 12 + (m - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> int:
    return (int(last[:4]) * 12 + int(last[5:7])) - (int(first[:4]) * 12 + int(first[5:7]))


def quarter_of(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def share(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(SHARE, ROUND_HALF_UP)


def segment_for(chain: ChainDef, industry_code: str | None) -> str | None:
    """The segment a GB/T 4754 class maps to in this chain (first segment listing it), or None."""
    for seg in chain.segments:
        if industry_code in seg.industries:
            return seg.code
    return None


def net_flows(rows: Iterable[Mapping[str, object]]) -> dict[tuple[str, str], dict[str, Decimal]]:
    """Per (month, segment): money received from and paid to other segments of the chain, and the net.

    Rows are `chain_segment_flows` rows (from_segment pays to_segment); flows inside a segment net to zero and
    are left out."""
    out: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: {"inflow": ZERO, "outflow": ZERO})
    for r in rows:
        payer, payee, month = str(r["from_segment"]), str(r["to_segment"]), str(r["month"])
        if payer == payee:
            continue
        amount = Decimal(str(r["total_amount"]))
        out[(month, payee)]["inflow"] += amount
        out[(month, payer)]["outflow"] += amount
    for v in out.values():
        v["net"] = v["inflow"] - v["outflow"]
    return dict(out)


def decayed_links(
    rows: Iterable[Mapping[str, object]], as_of_month: str, decay: Decimal
) -> dict[tuple[str, str], Decimal]:
    """Edge weights of the supply network: each month's payments weighted by decay^(months before as_of).

    A link not renewed fades: with decay 0.8, a payment six months old counts 0.8^6 ≈ 26%."""
    weights: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    factors: dict[str, Decimal | None] = {}  # per month: decay^age (None: after as_of), not once per row
    for r in rows:
        month = str(r["month"])
        if month not in factors:
            age = months_between(month, as_of_month)
            factors[month] = None if age < 0 else decay**age
        factor = factors[month]
        if factor is None:
            continue
        amount = r["total_amount"]
        amount = amount if isinstance(amount, Decimal) else Decimal(str(amount))
        weights[(str(r["payer"]), str(r["payee"]))] += amount * factor
    return {k: v.quantize(ZERO, ROUND_HALF_UP) for k, v in weights.items()}


@dataclass(frozen=True)
class Health:
    flags: tuple[str, ...]

    @property
    def healthy(self) -> bool:
        return not self.flags


def tax_change(row: Mapping[str, object]) -> Decimal | None:
    """Tax paid in the last 12 months against the 12 before (M−11..M / M−23..M−12) − 1, 4 places half up;
    None when nothing was paid in the earlier year (no base). −0.3 or below is the `tax_drop` flag's region."""
    return growth(Decimal(str(row["tax_12m"])), Decimal(str(row["tax_prev_12m"])))


def health_flags(row: Mapping[str, object], p: Parameters) -> Health:
    """Warning flags of one enterprise from a `chain_member_health` row (see docs/chains.md)."""
    flags = []
    if row.get("status") not in (None, "active"):
        flags.append("deregistered")
    now, before = row.get("headcount_now"), row.get("headcount_before")
    if now is None:
        flags.append("no_headcount")
    elif before and Decimal(str(now)) < Decimal(str(before)) * (1 - p.headcount_drop):
        flags.append("headcount_drop")
    tax, prev = Decimal(str(row["tax_12m"])), Decimal(str(row["tax_prev_12m"]))
    if prev > 0 and tax < prev * (1 - p.tax_drop):
        flags.append("tax_drop")
    if int(str(row["open_cases"])) > 0:
        flags.append("judicial")
    if int(str(row["paying_months"])) < p.min_paying_months:
        flags.append("irregular_payments")
    return Health(tuple(flags))


def gaps(
    chain: ChainDef,
    members: Mapping[str, int],
    external: Iterable[Mapping[str, object]],
    p: Parameters,
) -> list[dict[str, object]]:
    """Where to extend (延链), supplement (补链) or strengthen (强链) the chain, per segment.

    supplement: fewer members than `thin_segment_members`; extend: of the segment's purchases (money paid to
    enterprises), more than `leak_share` goes to enterprises outside the chain; strengthen: the segment's
    purchases inside the chain are below `weak_segment_share` of the average segment's."""
    paid: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for r in external:
        if r["direction"] == "out":
            paid[str(r["segment"])][str(r["counterparty"])] += Decimal(str(r["total_amount"]))
    inside = {s: paid[s]["chain"] for s in chain.segment_codes}
    average = sum(inside.values(), ZERO) / len(inside) if inside else ZERO
    out = []
    for seg in chain.segment_codes:
        to_ents = paid[seg]["chain"] + paid[seg]["other_chain"] + paid[seg]["region"]
        leaked = paid[seg]["other_chain"] + paid[seg]["region"]
        leak = share(leaked, to_ents)
        advice = []
        if members.get(seg, 0) < p.thin_segment_members:
            advice.append("supplement")
        if leak is not None and leak > p.leak_share:
            advice.append("extend")
        if average > 0 and inside[seg] < average * p.weak_segment_share:
            advice.append("strengthen")
        out.append(
            {
                "segment": seg,
                "members": members.get(seg, 0),
                "paid_in_chain": inside[seg],
                "paid_outside_chain": leaked,
                "leak_share": leak,
                "advice": advice,
            }
        )
    return out


def term_class(term_months: int, p: Parameters) -> str:
    """'short' up to a year (≤ medium_long_term_months), else 'medium_long' (中长期)."""
    return "short" if term_months <= p.medium_long_term_months else "medium_long"


def growth(current: Decimal, previous: Decimal) -> Decimal | None:
    """Growth rate current/previous − 1, or None without a base."""
    if previous <= 0:
        return None
    return (current / previous - 1).quantize(SHARE, ROUND_HALF_UP)
