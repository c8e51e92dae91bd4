"""Loan guarantees (`loan_guarantees`): who guarantees which loan, as a bank's credit file records it.

About 60% of loans carry one or two guarantees: the borrower's legal representative personally (joint
liability, the most common in Chinese SME lending), an affiliated company (same legal representative,
shareholder links, sister companies), a third-party professional guarantor, rarely an unrelated enterprise.
The region has no dedicated guarantee companies, so active investment and business-service companies
(GB/T 4754 division L72) act as professional guarantors. Third-party and unrelated guarantors are never
enterprises the borrower pays (flows or events from its accounts), so ordinary guarantees plant no return
flow by accident; the planted cases (`risk_cases.plant_guarantor_cases`) do that on purpose.

Its own random stream ("loan_guarantees"), and it only reads the region: no other dataset changes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from jinyu.synth.model import Enterprise, Region

GUARANTEED_SHARE = 0.6
COLUMNS = (
    "loan_id",
    "guarantor_type",
    "guarantor_id",
    "guarantor_name",
    "guarantee_type",
    "amount",
    "signed_on",
)
_ROLES = ("legal_rep", "affiliate", "professional", "unrelated")
_ROLE_WEIGHTS = (45, 25, 22, 8)
_BUSINESS = ("general", "services", "merchant", "construction", "developer")
_DAY = 86400


@dataclass
class Links:
    """The tracing relations between enterprises, from enterprises and shareholders (see risk/tracing)."""

    region: Region
    by_uscc: dict[str, Enterprise] = field(default_factory=dict)
    by_rep: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_address: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_phone: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    holders: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # uscc -> holder ids
    holdings: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # holder id -> usccs
    account_owner: dict[int, Enterprise] = field(default_factory=dict)  # settlement and general accounts

    @classmethod
    def of(cls, region: Region) -> Links:
        links = cls(region)
        for e in region.enterprises:
            links.by_uscc[e.uscc] = e
            links.by_rep[e.rep].append(e.idx)
            links.by_address[e.address].append(e.idx)
            if e.phone:
                links.by_phone[e.phone].append(e.idx)
            for account in (e.settlement, e.general):
                if account >= 0:
                    links.account_owner[account] = e
        rows = region.tables["shareholders"]
        for uscc, holder in zip(rows["uscc"], rows["holder_id"], strict=True):
            links.holders[uscc].add(holder)
            links.holdings[holder].add(uscc)
        return links

    def related(self, borrower: Enterprise) -> set[str]:
        """USCCs of the companies related to the borrower by any relation tracing knows (itself included)."""
        ents, rep_id = self.region.enterprises, self.region.persons.ids[borrower.rep]
        out = {borrower.uscc}
        out |= self.holders[borrower.uscc] | self.holdings[borrower.uscc] | self.holdings[rep_id]
        out |= {ents[i].uscc for i in self.by_rep[borrower.rep]}
        out |= {ents[i].uscc for i in self.by_address[borrower.address]}
        if borrower.phone:
            out |= {ents[i].uscc for i in self.by_phone[borrower.phone]}
        for holder in self.holders[borrower.uscc]:
            if holder in self.by_uscc:  # a corporate shareholder: its other holdings are sister companies
                out |= self.holdings[holder]
        return out

    def affiliates(self, borrower: Enterprise) -> list[Enterprise]:
        """Companies related to the borrower that can sign a guarantee (active, in the registry)."""
        found = sorted(self.related(borrower) - {borrower.uscc})
        return [e for u in found if (e := self.by_uscc.get(u)) is not None and e.status == "active"]


def payees(region: Region, accounts: set[int]) -> dict[int, set[int]]:
    """Accounts each of `accounts` pays, by free-running flows or fixed events, anywhere in the window."""
    out: dict[int, set[int]] = defaultdict(set)
    flows = region.flows
    for src, dst in zip(flows.src, flows.dst, strict=True):
        if src in accounts:
            out[src].add(dst)
    for month in region.events.months:
        for src, dst in zip(month.src, month.dst, strict=True):
            if src in accounts:
                out[src].add(dst)
    return out


def signed_on(rng: random.Random, disbursed_at: int) -> dt.date:
    """A date up to ten days before the disbursement (Asia/Shanghai)."""
    day = dt.datetime.fromtimestamp(disbursed_at + 8 * 3600, dt.UTC).date()
    return day - dt.timedelta(days=rng.randint(0, 10))


def add_row(table: dict[str, list[Any]], *values: Any) -> None:
    for column, value in zip(COLUMNS, values, strict=True):
        table[column].append(value)


def build_guarantees(region: Region) -> None:
    """The generator part: ordinary guarantees for a share of all loans (after the planted cases' rows)."""
    rng = region.rng("loan_guarantees")
    table = region.tables.setdefault("loan_guarantees", {c: [] for c in COLUMNS})
    taken = set(zip(table["loan_id"], table["guarantor_id"], table["guarantee_type"], strict=True))
    links, ents, people = Links.of(region), region.enterprises, region.persons
    loans = region.tables["loans"]
    borrowers = [links.by_uscc[u] for u in loans["borrower_uscc"]]
    own = {a for e in borrowers for a in (e.settlement, e.general) if a >= 0}
    paid = payees(region, own)
    professionals = [
        e for e in ents if e.industry.startswith("L72") and e.kind in _BUSINESS and e.status == "active"
    ]
    others = [e for e in ents if e.kind in _BUSINESS and e.status == "active"]
    for k, loan_id in enumerate(loans["loan_id"]):
        if rng.random() >= GUARANTEED_SHARE:
            continue
        borrower, cents, at = borrowers[k], loans["amount"][k], loans["disbursed_at"][k]
        avoid = links.related(borrower) | {
            owner.uscc
            for a in (borrower.settlement, borrower.general)
            for b in paid.get(a, ())
            if (owner := links.account_owner.get(b)) is not None
        }
        chosen: set[str] = set()
        for _ in range(1 if rng.random() < 0.7 else 2):
            role = rng.choices(_ROLES, _ROLE_WEIGHTS)[0]
            if role == "legal_rep":
                pid = people.ids[borrower.rep]
                if pid in chosen:
                    continue
                chosen.add(pid)
                kind = "joint_liability" if rng.random() < 0.85 else "general"
                row = ("person", pid, people.names[borrower.rep], kind)
            else:
                affiliates = links.affiliates(borrower) if role == "affiliate" else []
                if affiliates:
                    found = _pick(rng, affiliates, chosen)
                else:  # no affiliate to ask: a professional guarantor instead
                    found = _pick(rng, others if role == "unrelated" else professionals, avoid | chosen)
                if found is None:
                    continue
                e = found
                chosen.add(e.uscc)
                kind = rng.choices(("joint_liability", "mortgage", "pledge"), (70, 20, 10))[0]
                row = ("enterprise", e.uscc, e.name, kind)
            share = 1.0 if rng.random() < 0.7 else rng.uniform(0.3, 1.0)
            amount = max(1_000_000, round(cents * share / 1_000_000) * 1_000_000)  # ten-thousands of yuan
            if (loan_id, row[1], row[3]) not in taken:
                taken.add((loan_id, row[1], row[3]))
                add_row(table, loan_id, *row, amount, signed_on(rng, at))


def _pick(rng: random.Random, pool: list[Enterprise], avoid: set[str]) -> Enterprise | None:
    """A random member of `pool` not in `avoid` (rejection sampling: pools are large, `avoid` small)."""
    for _ in range(50 if pool else 0):
        e = rng.choice(pool)
        if e.uscc not in avoid:
            return e
    return None


# -- candidates for the planted `return_to_guarantor` case (risk_cases.plant_guarantor_cases) ----------------

_SPEND_MEMOS = ("货款", "设备款", "工程款", "技术服务费", "往来款")  # what loans.py writes on spending
_QUIET = ("general", "services", "merchant", "construction")
_WINDOW = 30 * _DAY  # the default tracing window
MIN_TRACED_SHARE = 0.15  # three times the default risk share: pro rata must find it whatever the noise


@dataclass(order=True)
class Proceeds:
    """Loan proceeds an ordinary loan paid one unrelated company: all its spending events to that payee."""

    loan: int  # row of the loans table
    account: int = field(compare=False)
    borrower: Enterprise = field(compare=False)
    payee: Enterprise = field(compare=False)
    cents: int = field(compare=False, default=0)
    last: int = field(compare=False, default=0)  # time of the last of those transfers


def proceeds_to_unrelated(region: Region, planted: set[str]) -> list[Proceeds]:
    """Ordinary loans of quiet enterprises (as the planted borrowers are) whose spending within ten days paid
    an active company related to the borrower by no relation tracing knows at least a quarter of the loan,
    and whose account is quiet enough that pro rata traces at least `MIN_TRACED_SHARE` of the loan to it:
    paid x pool-share, the pool estimated as max(loan + inflow, outflow) over the 30-day window from the
    fixed events and the free-running flows' expected amounts."""
    links, loans = Links.of(region), region.tables["loans"]
    wanted: dict[int, tuple[int, set[str]]] = {}
    for k, loan_id in enumerate(loans["loan_id"]):
        b = links.by_uscc[loans["borrower_uscc"][k]]
        accounts = [a for a in (b.settlement, b.general) if a >= 0]
        account = next(
            (a for a in accounts if region.accounts.numbers[a] == loans["disbursement_account"][k]), -1
        )
        if loan_id not in planted and b.kind in _QUIET and not b.chain and b.size <= 30 and account >= 0:
            wanted.setdefault(account, (k, links.related(b)))  # one loan per account: windows stay apart
    spend = {i for i, text in enumerate(region.memos.texts) if text in _SPEND_MEMOS}
    paid: dict[tuple[int, str], Proceeds] = {}
    inflow, outflow = _expected_flows(region, set(wanted))
    for events in region.events.months:
        for src, dst, cents, ts, memo in zip(
            events.src, events.dst, events.cents, events.ts, events.memo, strict=True
        ):
            for account, sign in ((src, -1), (dst, 1)):
                if account in wanted and 0 < ts - loans["disbursed_at"][wanted[account][0]] <= _WINDOW:
                    (inflow if sign > 0 else outflow)[account] += cents
            if src not in wanted or memo not in spend or (payee := links.account_owner.get(dst)) is None:
                continue
            k, related = wanted[src]
            start = loans["disbursed_at"][k]
            if start < ts <= start + 10 * _DAY and payee.uscc not in related and payee.status == "active":
                found = paid.setdefault(
                    (src, payee.uscc), Proceeds(k, src, links.by_uscc[loans["borrower_uscc"][k]], payee)
                )
                found.cents, found.last = found.cents + cents, max(found.last, ts)
    out = []
    for (account, _), p in sorted(paid.items()):
        loan = loans["amount"][p.loan]
        pool = max(loan + inflow[account], outflow[account])
        if (
            p.payee.kind in _QUIET
            and 4 * p.cents >= loan
            and p.cents * loan >= MIN_TRACED_SHARE * loan * pool
        ):
            out.append(p)
    best: dict[int, Proceeds] = {}
    for p in out:  # the biggest payee per loan
        if p.loan not in best or p.cents > best[p.loan].cents:
            best[p.loan] = p
    return sorted(best.values())


def _expected_flows(region: Region, accounts: set[int]) -> tuple[dict[int, float], dict[int, float]]:
    """Expected fen into and out of each account in a month by its free-running flows (lognormal means)."""
    inflow: dict[int, float] = defaultdict(float)
    outflow: dict[int, float] = defaultdict(float)
    f = region.flows
    for i in range(len(f)):
        src, dst = f.src[i], f.dst[i]
        if src in accounts or dst in accounts:
            fen = f.rate[i] * math.exp(f.mu[i] + f.sigma[i] ** 2 / 2) * 100
            if dst in accounts:
                inflow[dst] += fen
            if src in accounts:
                outflow[src] += fen
    return inflow, outflow
