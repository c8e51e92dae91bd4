"""Banks as head office -> branches -> outlets, and the customer managers who work at them.

Institution codes follow the shape of a financial licence number: "B" + 4-digit institution number + level
letter (H head office, B branch, S outlet) + district code + 4-digit sequence, e.g. B0003S5001120002.
"""

from __future__ import annotations

import random
from functools import cache
from itertools import accumulate
from typing import Any

from jinyu.core.districts import CHONGQING_DISTRICTS
from jinyu.synth import idgen
from jinyu.synth.model import BankOrg, Region
from jinyu.synth.parties import DISTRICT_CUM_WEIGHTS, DISTRICTS
from jinyu.synth.vocab import BANK_NAMES, ROADS

_HEAD_DISTRICTS = ("500103", "500105", "500112", "500106", "500107", "500108")


def org_code(bank_no: int, level: str, district: str, seq: int) -> str:
    return f"B{bank_no + 1:04d}{level}{district}{seq:04d}"


def bank_weights(count: int) -> list[float]:
    """Market shares: a few large banks hold most accounts."""
    return [1 / (b + 1) ** 0.8 for b in range(count)]


def build_banks(region: Region) -> None:
    rng = region.rng("banks")
    banks, scale = region.banks, region.scale
    for b in range(scale.banks):
        name = BANK_NAMES[b % len(BANK_NAMES)] + ("" if b < len(BANK_NAMES) else f"{b}")
        hq = _HEAD_DISTRICTS[b % len(_HEAD_DISTRICTS)]
        head = BankOrg(
            org_code(b, "H", hq, 0),
            f"{name}股份有限公司",
            "head_office",
            None,
            hq,
            idgen.make_uscc(rng, region.used_usccs, hq),
            b,
        )
        banks.heads.append(head)
        banks.outlets_of.append([])
        for seq, dist in enumerate(_branch_districts(rng, scale.branches_per_bank), start=1):
            area = CHONGQING_DISTRICTS[dist]
            branch = BankOrg(
                org_code(b, "B", dist, seq),
                f"{name}{area}支行",
                "branch",
                head.code,
                dist,
                idgen.make_uscc(rng, region.used_usccs, dist),
                b,
            )
            banks.branches.append(branch)
            for k in range(scale.outlets_per_branch):
                label = "营业部" if k == 0 else f"{rng.choice(ROADS)}分理处"
                outlet = BankOrg(
                    org_code(b, "S", dist, seq * 100 + k),
                    f"{name}{area}支行{label}",
                    "outlet",
                    branch.code,
                    dist,
                    None,
                    b,
                )
                banks.outlet_branch.append(len(banks.branches) - 1)
                banks.outlets_of[b].append(len(banks.outlets))
                banks.by_district.setdefault((b, dist), []).append(len(banks.outlets))
                banks.outlets.append(outlet)


def _branch_districts(rng: random.Random, count: int) -> list[str]:
    """Distinct districts for a bank's branches, busy urban districts first in likelihood."""
    chosen: list[str] = []
    while len(chosen) < min(count, len(DISTRICTS)):
        pick = rng.choices(DISTRICTS, cum_weights=DISTRICT_CUM_WEIGHTS)[0]
        if pick not in chosen:
            chosen.append(pick)
    return chosen


def pick_outlet(
    region: Region, rng: random.Random, district: str | None = None, exclude_bank: int = -1
) -> int:
    """An outlet of a bank chosen by market share, in the customer's district when the bank has one there."""
    banks = region.banks
    cum = _cum_bank_weights(len(banks.heads))
    bank = rng.choices(range(len(cum)), cum_weights=cum)[0]
    if bank == exclude_bank and len(cum) > 1:  # a second account is at another bank
        bank = (bank + 1 + rng.randrange(len(cum) - 1)) % len(cum)
    local = banks.by_district.get((bank, district or ""))
    return rng.choice(local or banks.outlets_of[bank])


@cache
def _cum_bank_weights(count: int) -> tuple[float, ...]:
    return tuple(accumulate(bank_weights(count)))


def build_customer_managers(region: Region) -> None:
    rng = region.rng("customer_managers")
    banks = region.banks
    rows: dict[str, list[Any]] = {c: [] for c in ("staff_id", "org_code", "name", "phone")}
    phones: set[str] = set()
    per_bank = [0] * len(banks.heads)
    places = [(o, rng.randint(1, 2 * region.scale.managers_per_outlet - 1)) for o in banks.outlets]
    places += [(br, rng.randint(1, 2)) for br in banks.branches]  # branch-level corporate teams
    for org, count in places:
        for _ in range(count):
            per_bank[org.bank_no] += 1
            phone = idgen.mobile(rng)
            while phone in phones:
                phone = idgen.mobile(rng)
            phones.add(phone)
            for col, value in zip(
                rows,
                (
                    f"CM{org.bank_no + 1:02d}{per_bank[org.bank_no]:06d}",
                    org.code,
                    idgen.person_name(rng),
                    phone,
                ),
                strict=True,
            ):
                rows[col].append(value)
    region.tables["customer_managers"] = rows


def bank_table(region: Region) -> dict[str, list[Any]]:
    orgs = region.banks.heads + region.banks.branches + region.banks.outlets
    return {
        "org_code": [o.code for o in orgs],
        "name": [o.name for o in orgs],
        "level": [o.level for o in orgs],
        "parent_code": [o.parent for o in orgs],
        "district_code": [o.district for o in orgs],
        "uscc": [o.uscc for o in orgs],
    }
