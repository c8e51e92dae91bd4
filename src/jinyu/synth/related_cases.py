"""Declared related parties (`related_parties`) and the planted cases that need them.

Banks and the registry know affiliations no registry field shows. This part writes the `related_parties`
dataset and plants, per scale (1 / 5 / 12 of each), return-flow cases on ordinary loans whose proceeds paid
a company unrelated to the borrower by every derived relation (as `return_to_guarantor` does):

  return_to_declared_affiliate  the lending branch's credit file declares the payee an affiliate
  return_to_group_member        the registry (no bank code) lists the payee in the borrower's group
  return_via_control_chain      the borrower holds 60% of a new holding company that holds 55% of the payee
  declared_by_other_bank        another bank declares the payee an affiliate: the lending bank must not see
                                it (a negative by design)
  declared_expired              the declaration ended before the disbursement (a negative by design)

It runs on its own random stream after every other part that reads the loans, so all other dataset files
stay as they were apart from the holding companies it adds to `enterprises` and `shareholders`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from jinyu.synth import idgen
from jinyu.synth.guarantees import Proceeds, proceeds_to_unrelated
from jinyu.synth.model import Enterprise, Region
from jinyu.synth.risk_cases import CASES_PER_TYPE, _Loan, _Planter
from jinyu.synth.vocab import BRAND_CHARS, ROADS

COLUMNS = (
    "owner_uscc",
    "related_type",
    "related_id",
    "related_name",
    "relation",
    "source",
    "bank_code",
    "valid_from",
    "valid_to",
)
RELATED_CASES = (
    "return_to_declared_affiliate",
    "return_to_group_member",
    "return_via_control_chain",
    "declared_by_other_bank",
    "declared_expired",
)
_HOUR, _DAY = 3600, 86400


def _day(ts: int) -> dt.date:
    return dt.datetime.fromtimestamp(ts + 8 * _HOUR, dt.UTC).date()


def _declare(
    table: dict[str, list[Any]], owner: Enterprise, payee: Enterprise, relation: str, source: str,
    bank_code: str | None, valid_from: dt.date, valid_to: dt.date | None,
) -> None:  # fmt: skip
    values = (
        owner.uscc,
        "enterprise",
        payee.uscc,
        payee.name,
        relation,
        source,
        bank_code,
        valid_from,
        valid_to,
    )
    for column, value in zip(COLUMNS, values, strict=True):
        table[column].append(value)


def _holding(region: Region, p: _Planter, owner: Enterprise, established: dt.date) -> Enterprise:
    """A holding company with no account, 60% held by `owner` and 40% by a person, its legal representative."""
    district = owner.district
    uscc = idgen.make_uscc(p.rng, region.used_usccs, district)
    name = f"重庆{p.rng.choice(BRAND_CHARS)}{p.rng.choice(BRAND_CHARS)}控股有限公司"
    ent = Enterprise(
        idx=len(region.enterprises),
        uscc=uscc,
        name=name,
        industry="L7211",  # 企业总部管理 / head-office management
        district=district,
        capital_cents=10_000_000 * 100,
        established=established,
        address=f"重庆市渝北区{p.rng.choice(ROADS)}{p.rng.randint(1, 399)}号",
        phone=None,
        rep=(person := p.rng.randrange(len(region.persons))),
        status="active",
        size=1.0,
        kind="holding",
        start_month=max(0, region.calendar.month_of(established) + 1),
        end_month=region.calendar.months - 1,
    )
    region.enterprises.append(ent)
    holders = region.tables["shareholders"]
    for row in (
        (uscc, "enterprise", owner.uscc, owner.name, 6_000),
        (uscc, "person", region.persons.ids[person], region.persons.names[person], 4_000),
    ):
        for column, value in zip(holders.values(), row, strict=True):
            column.append(value)
    return ent


def _other_bank_branch(region: Region, p: _Planter, code: str) -> str:
    banks = region.banks
    own = next(b.bank_no for b in banks.branches if b.code == code)
    return p.rng.choice([b.code for b in banks.branches if b.bank_no != own])


def plant_related_cases(region: Region) -> None:
    """The generator part: `related_parties` rows (declarations) and the planted cases that use them."""
    rng = region.rng("risk_cases:related")
    labels = region.tables["risk_labels"]
    planter = _Planter(region, rng, labels=labels)
    table = region.tables.setdefault("related_parties", {c: [] for c in COLUMNS})
    found = proceeds_to_unrelated(region, set(labels["loan_id"]))
    per_type = CASES_PER_TYPE.get(region.scale.name, 1)
    picked = sorted(rng.sample(found, min(len(found), per_type * len(RELATED_CASES))))
    loans = region.tables["loans"]
    for i, case in enumerate(picked):
        name = RELATED_CASES[i % len(RELATED_CASES)]
        loan_id, ts, bank_code = (
            loans["loan_id"][case.loan],
            loans["disbursed_at"][case.loan],
            loans["bank_code"][case.loan],
        )
        loan = _Loan(loan_id, case.borrower, case.account, loans["amount"][case.loan], ts, 0)
        since = _day(ts) - dt.timedelta(days=rng.randint(60, 700))
        _PLANT[name](region, planter, table, case, bank_code, since)
        detectable = name not in ("declared_by_other_bank", "declared_expired")
        route = "control" if name == "return_via_control_chain" else "declared"
        planter.label(loan, name, "return_flow", "returned", 1, case.last, case.cents, route)
        if not detectable:
            labels["detectable"][-1] = "false"


def _affiliate(
    region: Region, p: _Planter, t: dict[str, list[Any]], c: Proceeds, bank: str, since: dt.date
) -> None:
    _declare(
        t,
        c.borrower,
        c.payee,
        p.rng.choice(("affiliate", "disclosed_related")),
        "credit_file",
        bank,
        since,
        None,
    )


def _group(
    region: Region, p: _Planter, t: dict[str, list[Any]], c: Proceeds, bank: str, since: dt.date
) -> None:
    _declare(t, c.borrower, c.payee, "group_member", "group_registry", None, since, None)


def _chain(
    region: Region, p: _Planter, t: dict[str, list[Any]], c: Proceeds, bank: str, since: dt.date
) -> None:
    """The borrower holds 60% of a new holding that takes 55% of the payee (its holders keep 45%)."""
    holding = _holding(region, p, c.borrower, since)
    holders = region.tables["shareholders"]
    rows = [i for i, uscc in enumerate(holders["uscc"]) if uscc == c.payee.uscc]
    left = 4_500  # the payee's holders keep 45.00% between them, in their old proportions
    total = sum(holders["share_ratio"][i] for i in rows)
    for n, i in enumerate(rows):
        share = left if n == len(rows) - 1 else holders["share_ratio"][i] * 4_500 // max(total, 1)
        holders["share_ratio"][i], left = share, left - share
    row = (c.payee.uscc, "enterprise", holding.uscc, holding.name, 5_500 + (left if not rows else 0))
    for column, value in zip(holders.values(), row, strict=True):
        column.append(value)


def _other_bank(
    region: Region, p: _Planter, t: dict[str, list[Any]], c: Proceeds, bank: str, since: dt.date
) -> None:
    _declare(
        t, c.borrower, c.payee, "affiliate", "credit_file", _other_bank_branch(region, p, bank), since, None
    )


def _expired(
    region: Region, p: _Planter, t: dict[str, list[Any]], c: Proceeds, bank: str, since: dt.date
) -> None:
    ended = _day(c.last) - dt.timedelta(days=p.rng.randint(40, 200))
    _declare(
        t,
        c.borrower,
        c.payee,
        "affiliate",
        "credit_file",
        bank,
        min(since, ended - dt.timedelta(days=30)),
        ended,
    )


_PLANT: dict[str, Callable[..., None]] = {
    "return_to_declared_affiliate": _affiliate,
    "return_to_group_member": _group,
    "return_via_control_chain": _chain,
    "declared_by_other_bank": _other_bank,
    "declared_expired": _expired,
}
