"""Bank accounts, all opened at outlets, and the `accounts` dataset.

Account numbers never collide because every number carries a region-wide serial and each kind of account
has its own length and leading digit: corporate 18 digits (bank 11.. + outlet + serial), personal cards 19 digits
(issuer prefix 62xx88 + serial + Luhn digit), bank-internal 16 digits starting with 9, collection accounts of
the tax and social-fund bodies 16 digits starting with 7.

Accounts of the tax bureau, the social insurance bureau and the provident fund centre have owner_type
"enterprise" and the body's USCC (found in `institutions`): the contract has no owner type for a government
body (see "Notes on the contracts" in docs/synthetic-region.md).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from jinyu.synth import idgen
from jinyu.synth.banks import pick_outlet
from jinyu.synth.model import Enterprise, Region


class _Numbers:
    def __init__(self) -> None:
        self.serial = 0

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def corporate(self, bank: int, outlet: int) -> str:
        return f"{bank + 11:02d}{outlet:05d}{self._next():011d}"

    def card(self, bank: int) -> str:
        return idgen.bank_card(f"62{bank + 11:02d}88", self._next())

    def internal(self, bank: int, outlet: int) -> str:
        return f"9{bank + 11:02d}{outlet:05d}{self._next():08d}"

    def collection(self, bank: int, outlet: int) -> str:
        return f"7{bank + 11:02d}{outlet:05d}{self._next():08d}"


def build_accounts(region: Region) -> None:
    rng = region.rng("accounts")
    numbers = _Numbers()
    _bank_side(region, rng, numbers)
    for ent in region.enterprises:
        _enterprise_accounts(region, rng, numbers, ent)
    _person_accounts(region, rng, numbers)


def _old_date(rng: random.Random) -> dt.date:
    return dt.date(2008, 1, 2) + dt.timedelta(days=rng.randrange(2500))


def _bank_side(region: Region, rng: random.Random, numbers: _Numbers) -> None:
    """Per branch an internal (disbursement) and a loan repayment account; per bank collection accounts."""
    banks, book = region.banks, region.accounts
    for br_idx, branch in enumerate(banks.branches):
        head = banks.heads[branch.bank_no]
        outlet = banks.outlet_branch.index(br_idx)  # the branch's own business hall
        for category, target in (
            ("bank_internal", banks.internal_account),
            ("loan_repayment", banks.repayment_account),
        ):
            number = numbers.internal(branch.bank_no, outlet)
            target.append(
                book.add(number, outlet, "bank", head.uscc or "", head.name, category, _old_date(rng))
            )
    for bank, outlets in enumerate(banks.outlets_of):
        for role, category, target in (
            ("tax", "tax_authority", banks.tax_account),
            ("social", "social_fund", banks.social_account),
            ("fund", "social_fund", banks.fund_account),
        ):
            uscc, name = region.bureaus[role]
            number = numbers.collection(bank, outlets[0])
            target.append(book.add(number, outlets[0], "enterprise", uscc, name, category, _old_date(rng)))


def _enterprise_accounts(region: Region, rng: random.Random, numbers: _Numbers, ent: Enterprise) -> None:
    banks, book, end = region.banks, region.accounts, region.calendar.end
    outlet = pick_outlet(region, rng, ent.district)
    bank = banks.outlets[outlet].bank_no
    opened = min(end, ent.established + dt.timedelta(days=rng.randint(5, 30)))
    ent.settlement = book.add(
        numbers.corporate(bank, outlet),
        outlet,
        "enterprise",
        ent.uscc,
        ent.name,
        "corporate_settlement",
        opened,
    )
    # The enterprise moves money from the month after its basic account opens.
    ent.start_month = max(ent.start_month, region.calendar.month_of(opened) + 1)
    if rng.random() < (0.6 if ent.size >= 20 else 0.25):
        other = pick_outlet(region, rng, ent.district, exclude_bank=bank)
        later = min(end, opened + dt.timedelta(days=rng.randint(30, 1500)))
        ent.general = book.add(
            numbers.corporate(banks.outlets[other].bank_no, other),
            other,
            "enterprise",
            ent.uscc,
            ent.name,
            "corporate_general",
            later,
        )
    if ent.kind in ("processor", "securities"):
        # Reserve (备付金) or custody accounts at every bank: the hubs of card and brokerage money.
        owner_type = "processor" if ent.kind == "processor" else "enterprise"
        category = "payment_processor" if ent.kind == "processor" else "securities_settlement"
        for b, outlets in enumerate(banks.outlets_of):
            book.add(
                numbers.corporate(b, outlets[0]), outlets[0], owner_type, ent.uscc, ent.name, category, opened
            )
    elif ent.kind == "developer":
        for _ in range(rng.randint(1, 2)):  # pre-sale escrow accounts, one per project
            o = pick_outlet(region, rng, ent.district)
            when = min(end, opened + dt.timedelta(days=rng.randint(60, 2000)))
            book.add(
                numbers.corporate(banks.outlets[o].bank_no, o),
                o,
                "enterprise",
                ent.uscc,
                ent.name,
                "real_estate_developer",
                when,
            )


def _person_accounts(region: Region, rng: random.Random, numbers: _Numbers) -> None:
    people, book, banks, end = region.persons, region.accounts, region.banks, region.calendar.end
    for p, rid in enumerate(people.ids):
        adult = dt.date(int(rid[6:10]) + 16, int(rid[10:12]), min(int(rid[12:14]), 28))
        opened = max(adult, end - dt.timedelta(days=int(rng.expovariate(1 / 3000))))
        outlet = pick_outlet(region, rng, rid[:6])
        bank = banks.outlets[outlet].bank_no
        people.accounts.append(
            book.add(numbers.card(bank), outlet, "person", rid, people.names[p], "personal", opened)
        )
        if rng.random() < 0.1:
            other = pick_outlet(region, rng, rid[:6], exclude_bank=bank)
            book.add(
                numbers.card(banks.outlets[other].bank_no),
                other,
                "person",
                rid,
                people.names[p],
                "personal",
                max(opened, end - dt.timedelta(days=rng.randrange(3000))),
            )


def account_table(region: Region) -> dict[str, list[Any]]:
    book, outlets = region.accounts, region.banks.outlets
    return {
        "account_no": book.numbers,
        "bank_code": [outlets[o].code for o in book.outlet],
        "owner_type": book.owner_type,
        "owner_id": book.owner_id,
        "owner_name": book.owner_name,
        "category": book.category,
        "opened_on": book.opened,
        "currency": ["CNY"] * len(book),
    }
