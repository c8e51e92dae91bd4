"""The in-memory region that every part of the generator fills in, and `Region`, the context they share.

Large collections are columnar (lists and `array` columns) rather than one object per row: at the large scale
the region holds about a million accounts and several million flows and events.
"""

from __future__ import annotations

import datetime as dt
import random
from array import array
from dataclasses import dataclass, field
from typing import Any

from jinyu.synth.calendar import Calendar
from jinyu.synth.scales import Scale

# Transfer channels, in the order of the contract's choices.
CHANNELS = ("counter", "online", "mobile", "batch", "internal", "reversal")
COUNTER, ONLINE, MOBILE, BATCH, INTERNAL, REVERSAL = range(6)

# When in a month a free-running flow's transfers happen.
BUSINESS, RETAIL, SETTLEMENT, MONTHLY = range(4)

NO_MEMO = -1


@dataclass(slots=True)
class Enterprise:
    idx: int
    uscc: str
    name: str
    industry: str
    district: str
    capital_cents: int
    established: dt.date
    address: str
    phone: str | None
    rep: int  # person index of the legal representative
    status: str  # active / revoked / cancelled
    size: float  # head-count baseline; drives every volume the enterprise produces
    kind: str  # general, merchant, developer, construction, securities, processor, services
    start_month: int  # first window month its settlement account can move money in (0: before the window)
    end_month: int  # last window month it is active in
    chain: str | None = None
    segment: str | None = None
    is_core: bool = False
    general_taxpayer: bool = False  # VAT general taxpayers file monthly, small-scale taxpayers quarterly
    suppliers: list[int] = field(default_factory=list)
    employees: list[int] = field(default_factory=list)
    settlement: int = -1  # account index of the basic settlement account
    general: int = -1  # account index of a general account at another bank, if any


@dataclass(slots=True)
class BankOrg:
    code: str
    name: str
    level: str  # head_office / branch / outlet
    parent: str | None
    district: str
    uscc: str | None
    bank_no: int  # which head office it belongs to


@dataclass
class Persons:
    ids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    accounts: list[int] = field(default_factory=list)  # primary personal account index

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class AccountBook:
    numbers: list[str] = field(default_factory=list)
    outlet: list[int] = field(default_factory=list)  # index into Banks.outlets
    owner_type: list[str] = field(default_factory=list)
    owner_id: list[str] = field(default_factory=list)
    owner_name: list[str] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    opened: list[dt.date] = field(default_factory=list)

    def add(
        self,
        number: str,
        outlet: int,
        owner_type: str,
        owner_id: str,
        owner_name: str,
        category: str,
        opened: dt.date,
    ) -> int:
        self.numbers.append(number)
        self.outlet.append(outlet)
        self.owner_type.append(owner_type)
        self.owner_id.append(owner_id)
        self.owner_name.append(owner_name)
        self.category.append(category)
        self.opened.append(opened)
        return len(self.numbers) - 1

    def __len__(self) -> int:
        return len(self.numbers)


@dataclass
class Banks:
    heads: list[BankOrg] = field(default_factory=list)
    branches: list[BankOrg] = field(default_factory=list)
    outlets: list[BankOrg] = field(default_factory=list)
    outlet_branch: list[int] = field(default_factory=list)  # outlet index -> branch index
    outlets_of: list[list[int]] = field(default_factory=list)  # bank_no -> outlet indexes
    by_district: dict[tuple[int, str], list[int]] = field(
        default_factory=dict
    )  # (bank_no, district) -> outlets
    # Per branch: the bank's internal account (loan disbursement source) and its loan repayment account.
    internal_account: list[int] = field(default_factory=list)
    repayment_account: list[int] = field(default_factory=list)
    # Per bank: collection accounts of the tax bureau, social insurance bureau and provident fund centre.
    tax_account: list[int] = field(default_factory=list)
    social_account: list[int] = field(default_factory=list)
    fund_account: list[int] = field(default_factory=list)


@dataclass
class FlowTable:
    """Free-running flows: each yields about `rate` transfers a month from src to dst while active."""

    src: array[int] = field(default_factory=lambda: array("q"))
    dst: array[int] = field(default_factory=lambda: array("q"))
    rate: array[float] = field(default_factory=lambda: array("d"))
    mu: array[float] = field(default_factory=lambda: array("d"))  # log of the median amount in yuan
    sigma: array[float] = field(default_factory=lambda: array("d"))
    round_to: array[int] = field(default_factory=lambda: array("q"))  # fen granularity of the amount
    timing: array[int] = field(default_factory=lambda: array("b"))
    param: array[int] = field(default_factory=lambda: array("b"))  # MONTHLY: which working day
    channel: array[int] = field(default_factory=lambda: array("b"))
    memo: array[int] = field(default_factory=lambda: array("q"))
    start: array[int] = field(default_factory=lambda: array("b"))
    end: array[int] = field(default_factory=lambda: array("b"))

    def add(
        self,
        src: int,
        dst: int,
        rate: float,
        mu: float,
        sigma: float,
        *,
        timing: int,
        channel: int,
        memo: int,
        start: int,
        end: int,
        round_to: int = 1,
        param: int = 0,
    ) -> None:
        self.src.append(src)
        self.dst.append(dst)
        self.rate.append(rate)
        self.mu.append(mu)
        self.sigma.append(sigma)
        self.round_to.append(round_to)
        self.timing.append(timing)
        self.param.append(param)
        self.channel.append(channel)
        self.memo.append(memo)
        self.start.append(start)
        self.end.append(end)

    def __len__(self) -> int:
        return len(self.src)


@dataclass
class MonthEvents:
    src: array[int] = field(default_factory=lambda: array("q"))
    dst: array[int] = field(default_factory=lambda: array("q"))
    cents: array[int] = field(default_factory=lambda: array("q"))
    ts: array[int] = field(default_factory=lambda: array("q"))  # UTC epoch seconds
    channel: array[int] = field(default_factory=lambda: array("b"))
    memo: array[int] = field(default_factory=lambda: array("q"))


class EventTable:
    """Transfers whose exact time and amount are fixed by another dataset (tax, social insurance, loans)."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.months = [MonthEvents() for _ in range(calendar.months)]

    def add(self, ts: int, src: int, dst: int, cents: int, channel: int, memo: int, month: int) -> None:
        if not 0 <= month < len(self.months) or src == dst or cents <= 0:
            return  # outside the window: the other dataset may still mention it, the ledger does not
        ev = self.months[month]
        ev.src.append(src)
        ev.dst.append(dst)
        ev.cents.append(cents)
        ev.ts.append(ts)
        ev.channel.append(channel)
        ev.memo.append(memo)

    def __len__(self) -> int:
        return sum(len(ev.src) for ev in self.months)


class MemoBook:
    """The memo texts used by transfers; transfers refer to them by index."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._index: dict[str, int] = {}

    def code(self, text: str) -> int:
        if text not in self._index:
            self._index[text] = len(self.texts)
            self.texts.append(text)
        return self._index[text]


@dataclass
class Region:
    """The shared context: parameters, random streams and everything generated so far."""

    scale: Scale
    seed: int
    calendar: Calendar
    persons: Persons = field(default_factory=Persons)
    enterprises: list[Enterprise] = field(default_factory=list)
    banks: Banks = field(default_factory=Banks)
    accounts: AccountBook = field(default_factory=AccountBook)
    flows: FlowTable = field(default_factory=FlowTable)
    memos: MemoBook = field(default_factory=MemoBook)
    events: EventTable = field(init=False)
    # Finished datasets by name: column name -> values (see writers.py for the value forms per kind).
    tables: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    bureaus: dict[str, tuple[str, str]] = field(default_factory=dict)  # role -> (USCC, name)
    used_usccs: set[str] = field(default_factory=set)
    used_person_ids: set[str] = field(default_factory=set)
    declines: dict[str, int] = field(
        default_factory=dict
    )  # planted chain-member declines: USCC -> onset month

    def __post_init__(self) -> None:
        self.events = EventTable(self.calendar)

    def rng(self, part: str) -> random.Random:
        """An independent, reproducible stream per part, so adding a part never shifts the others' draws."""
        return random.Random(f"jinyu.synth:{self.seed}:{part}")

    def seed_for(self, part: str) -> int:
        return self.rng(part).getrandbits(62)
