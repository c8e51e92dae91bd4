"""Deterministic synthetic work orders for a region's year, with planted slow and refusing outlets.

Used for the lake (`jinyu financing synth-orders`), the Spark parity region and the indicator benchmark.
Outlet `<bank>-<branch>-<outlet>` codes; the planted outlets are the first three outlets of bank B01
(slow: first contact 3–7 working days after dispatch, decisions after 9–16) and the first two of bank B02
(refusing: 80 % of decisions are rejections). Everything else contacts within 0–2 working days and decides
within 3–9, approving about 3 in 4. Orders dispatched in the last weeks of the year may still be open.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa

from jinyu.financing.service.lake_export import COLUMNS, orders_table
from jinyu.financing.sla import WorkCalendar

DISTRICTS = ("500101", "500103", "500104", "500105", "500106", "500107", "500108", "500112", "500113")
INDUSTRIES = ("C3670", "C3982", "C2710", "I6510", "F5123", "E4813", "A0511", "C3311")
CHAINS = ("auto", "new_display", "electronics", "", "", "")
REFUSALS = ("R01", "R02", "R03", "R04", "R05", "R06", "R07", "R99")


@dataclass(frozen=True)
class Shape:
    banks: int = 12
    branches_per_bank: int = 4
    outlets_per_branch: int = 5
    managers_per_outlet: int = 3

    def outlets(self) -> list[tuple[str, str, str]]:
        """(bank, branch, outlet) codes."""
        return [
            (f"B{b:02d}", f"B{b:02d}-{r:02d}", f"B{b:02d}-{r:02d}-{o:03d}")
            for b in range(1, self.banks + 1)
            for r in range(1, self.branches_per_bank + 1)
            for o in range(1, self.outlets_per_branch + 1)
        ]


def planted(shape: Shape) -> tuple[list[str], list[str]]:
    """(slow outlets, refusing outlets)."""
    outlets = [o for _, _, o in shape.outlets()]
    slow = [o for o in outlets if o.startswith("B01-")][:3]
    refusing = [o for o in outlets if o.startswith("B02-")][:2]
    return slow, refusing


def _working_days(calendar: WorkCalendar, year: int) -> list[dt.date]:
    day, end, days = dt.date(year, 1, 1), dt.date(year + 1, 3, 31), []
    while day <= end:
        if calendar.is_working_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def synthetic_orders(
    n: int, calendar: WorkCalendar, year: int = 2026, seed: int = 7, shape: Shape | None = None
) -> pa.Table:
    shape = shape or Shape()
    rng = random.Random(seed)
    wd = _working_days(calendar, year)
    in_year = sum(1 for d in wd if d.year == year)
    cutoff = dt.date(year, 12, 31)
    outlets = shape.outlets()
    slow, refusing = (set(x) for x in planted(shape))
    rows = []
    for i in range(n):
        bank, branch, outlet = outlets[rng.randrange(len(outlets))]
        start = rng.randrange(in_year)
        row: dict[str, object] = dict.fromkeys(COLUMNS)
        row |= {
            "order_id": f"O{seed:02d}{i:09d}", "bank_id": bank, "branch_id": branch, "outlet_id": outlet,
            "manager_id": f"{outlet}-M{rng.randrange(shape.managers_per_outlet) + 1}",
            "district_code": DISTRICTS[rng.randrange(len(DISTRICTS))],
            "industry_code": INDUSTRIES[rng.randrange(len(INDUSTRIES))],
            "chain_code": CHAINS[rng.randrange(len(CHAINS))] or None,
            "amount_requested": Decimal(rng.randrange(10, 500) * 10000).quantize(Decimal("0.01")),
            "dispatched_on": wd[start], "contact_due": wd[start + 2], "decision_due": wd[start + 10],
        }  # fmt: skip
        _history(rng, row, wd, start, cutoff, outlet in slow, outlet in refusing)
        rows.append(row)
    return orders_table(rows, dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC))


def _history(
    rng: random.Random,
    row: dict[str, object],
    wd: list[dt.date],
    start: int,
    cutoff: dt.date,
    slow: bool,
    refusing: bool,
) -> None:
    """Fill the order's steps up to `cutoff` (later steps have not happened yet)."""
    contact = start + (rng.randint(3, 7) if slow else rng.choice((0, 1, 1, 2, 2)))
    decision = contact + (rng.randint(6, 10) if slow else rng.randint(2, 7))
    row["state"] = "dispatched"
    if rng.random() < 0.03 or wd[start] > cutoff:
        return  # never accepted: stays dispatched (and eventually overdue)
    row["accepted_on"], row["state"] = wd[start], "accepted"
    if wd[contact] > cutoff:
        return
    row["contacted_on"], row["contact_working_days"], row["state"] = wd[contact], contact - start, "contacted"
    if wd[decision] > cutoff:
        row["state"] = "under_review"
        return
    row["decided_on"], row["decision_working_days"] = wd[decision], decision - start
    if rng.random() < (0.8 if refusing else 0.25):
        row["state"], row["amount_approved"] = "rejected", None
    else:
        approved = row["amount_requested"]
        assert isinstance(approved, Decimal)
        row["state"], row["amount_approved"] = (
            "approved",
            (approved * Decimal("0.8")).quantize(Decimal("0.01")),
        )
