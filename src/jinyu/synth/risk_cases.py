"""Planted risk cases: loans whose proceeds flow back to the borrower or into prohibited uses, and the
ground truth about them (`risk_labels.csv`, not an ingestion dataset).

Each case is a new loan to a small, quiet enterprise outside the industrial chains, disbursed from the
lending branch's internal account like every other loan, followed by transfers that move part of it:

return flow                                          misappropriation
  return_direct     -> legal rep, 1 hop                misuse_securities      -> broker custody, 1 hop
  return_split      -> 3 persons -> legal rep, 2 hops  misuse_securities_2hop -> person -> custody, 2 hops
  return_via_shells -> shell -> shell -> rep, 3 hops   misuse_real_estate     -> developer escrow, 1 hop
  return_partial    -> 15% to the legal rep, 1 hop     misuse_other_loan      -> another bank's repayment
  return_4hops      -> 3 persons in a row -> rep       misuse_shell           -> a new shell company
  return_late       -> person, back after 35 days      misuse_shell_linked    -> a dormant company at the
  return_dust       -> 600 yuan to the legal rep                                 borrower's address
  return_via_stop   -> payment processor -> rep
  return_to_guarantor -> a company related only as the loan's guarantor, 1 hop (see below)

The last four return cases are negatives under the default parameters (3 hops, 30 days, dust 1,000 yuan,
processors stop tracing); the labels say so in `detectable` and give hops, days and amount so that an
evaluation under other parameters can tell what should be found. Shells are new enterprises with no tax,
no payroll and no insured staff; their only trace in government data is their registration.

`return_to_guarantor` plants no new loan or transfer: it takes an ordinary loan of a quiet enterprise whose
proceeds paid (within ten days, at least a quarter of the loan) a company unrelated to it by every other
relation tracing knows, and records that company as the loan's joint-liability guarantor in
`loan_guarantees`: the proceeds return to the guarantor. It runs on a random stream of its own after the
other cases, so every other generated file stays byte for byte what it was; its labels come last.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinyu.synth import idgen
from jinyu.synth.calendar import epoch
from jinyu.synth.guarantees import COLUMNS as GUARANTEE_COLUMNS
from jinyu.synth.guarantees import add_row, proceeds_to_unrelated, signed_on
from jinyu.synth.model import INTERNAL, MOBILE, ONLINE, Enterprise, Region
from jinyu.synth.vocab import BRAND_CHARS, ROADS

LABELS_FILE = "risk_labels.csv"
LABEL_COLUMNS = (
    "loan_id",
    "case",
    "analysis",  # return_flow | misuse
    "expected_kind",  # returned | securities | real_estate | other_loan | shell
    "hops",  # hop at which the planted money reaches its target
    "days",  # days from disbursement to that arrival (one decimal)
    "planted_amount",  # yuan that reach the target
    "loan_amount",
    "route",  # direct | persons | shells | processor
    "detectable",  # found under the default parameters (3 hops, 30 days, dust 1,000, stop at processors)
)
CASES_PER_TYPE = {"small": 1, "medium": 5, "large": 12}
DEFAULT_HOPS, DEFAULT_DAYS, DEFAULT_DUST_CENTS = 3, 30, 100_000
_SHELL_INDUSTRY = "L7212"  # 投资与资产管理 / investment and asset management
_HOUR, _DAY = 3600, 86400


@dataclass
class _Loan:
    loan_id: str
    borrower: Enterprise
    account: int
    cents: int
    ts: int  # UTC epoch seconds
    month: int


@dataclass
class _Planter:
    region: Region
    rng: random.Random
    used: set[int] = field(default_factory=set)  # enterprises already borrowing in a case
    used_persons: set[int] = field(default_factory=set)  # legal reps and go-betweens already in a case
    by_category: dict[str, list[int]] = field(default_factory=dict)
    labels: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in LABEL_COLUMNS})

    # -- the pieces ------------------------------------------------------------------------------------------

    def opened_before(self, account: int, ts: int) -> bool:
        opened = self.region.accounts.opened[account]
        return epoch(opened) + 31 * _DAY < ts

    def borrower(self, month: int) -> Enterprise:
        """A small, quiet, active enterprise outside the chains whose legal representative banks locally."""
        region, ents = self.region, self.region.enterprises
        start = epoch(region.calendar.days[month][0])
        for _ in range(10_000):
            ent = ents[self.rng.randrange(len(ents))]
            rep_account = region.persons.accounts[ent.rep]
            if (
                ent.idx not in self.used
                and ent.status == "active"
                and ent.kind in ("general", "services", "merchant", "construction")
                and ent.chain is None
                and ent.size <= 30
                and ent.settlement >= 0
                and ent.start_month < month - 1
                and self.opened_before(ent.settlement, start)
                and self.opened_before(rep_account, start)
                and ent.rep not in self.used_persons
            ):
                self.used.add(ent.idx)
                self.used_persons.add(ent.rep)
                return ent
        raise RuntimeError("no enterprise fits a planted case")  # pragma: no cover - regions have thousands

    def person(self, ts: int) -> int:
        """A person unrelated to any planted case, banking since long before `ts`: their primary account."""
        people = self.region.persons
        for _ in range(10_000):
            p = self.rng.randrange(len(people))
            if p not in self.used_persons and self.opened_before(people.accounts[p], ts):
                self.used_persons.add(p)
                return people.accounts[p]
        raise RuntimeError("no person fits a planted case")  # pragma: no cover

    def loan(self, purpose: str = "working_capital") -> _Loan:
        region, rng = self.region, self.rng
        cal, banks, book = region.calendar, region.banks, region.accounts
        month = rng.randint(3, cal.months - 4)
        ent = self.borrower(month)
        branch = banks.outlet_branch[book.outlet[ent.settlement]]
        day = rng.choice(cal.working_days[month][:15])
        ts = epoch(day, rng.randint(9 * _HOUR, 11 * _HOUR))
        cents = rng.randint(50, 300) * 1_000_000  # 500,000 to 3,000,000 yuan in round ten-thousands
        cols = region.tables["loans"]
        seq = len(cols["loan_id"]) + 1
        loan_id = f"{banks.heads[banks.branches[branch].bank_no].code[:5]}{day:%Y%m%d}{seq:06d}"
        values = (
            loan_id,
            banks.branches[branch].code,
            ent.uscc,
            book.numbers[ent.settlement],
            cents,
            ts,
            12,
            purpose,
        )
        for col, value in zip(cols.values(), values, strict=True):
            col.append(value)
        memo = region.memos.code(f"贷款发放 {loan_id}")
        region.events.add(ts, banks.internal_account[branch], ent.settlement, cents, INTERNAL, memo, month)
        return _Loan(loan_id, ent, ent.settlement, cents, ts, month)

    def pay(
        self, ts: int, src: int, dst: int, cents: int, memo: str = "往来款", channel: int = ONLINE
    ) -> int:
        local = dt.datetime.fromtimestamp(ts + 8 * _HOUR, dt.UTC).date()
        month = self.region.calendar.month_of(local)
        self.region.events.add(ts, src, dst, cents, channel, self.region.memos.code(memo), month)
        return ts

    def shell(self, established: dt.date, *, rep: int | None = None, address: str | None = None) -> int:
        """A company with a registration and an account but no tax, payroll or insured staff: its account."""
        region, rng = self.region, self.rng
        district = rng.choice(("500103", "500105", "500106", "500108", "500112"))
        uscc = idgen.make_uscc(rng, region.used_usccs, district)
        person = rep if rep is not None else rng.randrange(len(region.persons))
        name = (
            f"重庆{rng.choice(BRAND_CHARS)}{rng.choice(BRAND_CHARS)}{rng.choice(BRAND_CHARS)}商务咨询有限公司"
        )
        ent = Enterprise(
            idx=len(region.enterprises),
            uscc=uscc,
            name=name,
            industry=_SHELL_INDUSTRY,
            district=district,
            capital_cents=rng.choice((100_000, 500_000, 1_000_000)) * 100,
            established=established,
            address=address
            or f"重庆市渝中区{rng.choice(ROADS)}{rng.randint(1, 399)}号{rng.randint(1, 32)}楼",
            phone=None,
            rep=person,
            status="active",
            size=1.0,
            kind="shell",
            start_month=max(0, region.calendar.month_of(established) + 1),
            end_month=region.calendar.months - 1,
        )
        region.enterprises.append(ent)
        holders = region.tables["shareholders"]
        for col, value in zip(
            holders.values(),
            (uscc, "person", region.persons.ids[person], region.persons.names[person], 10_000),
            strict=True,
        ):
            col.append(value)
        banks, book = region.banks, region.accounts
        outlet = rng.choice(banks.outlets_of[rng.randrange(len(banks.heads))])
        number = f"{banks.outlets[outlet].bank_no + 11:02d}{outlet:05d}{len(book) + 1:011d}"
        opened = established + dt.timedelta(days=rng.randint(3, 10))
        ent.settlement = book.add(number, outlet, "enterprise", uscc, name, "corporate_settlement", opened)
        return ent.settlement

    def category_account(
        self, category: str, ts: int, bank: int | None = None, not_bank: int | None = None
    ) -> int:
        region, book = self.region, self.region.accounts
        outlets = region.banks.outlets
        if not self.by_category:
            for a, cat in enumerate(book.category):
                self.by_category.setdefault(cat, []).append(a)
        found = [
            a
            for a in self.by_category.get(category, [])
            if self.opened_before(a, ts)
            and (bank is None or outlets[book.outlet[a]].bank_no == bank)
            and (not_bank is None or outlets[book.outlet[a]].bank_no != not_bank)
        ]
        if not found:
            raise RuntimeError(f"no {category} account")  # pragma: no cover - every region has them
        return self.rng.choice(found)

    def bank_of(self, account: int) -> int:
        return self.region.banks.outlets[self.region.accounts.outlet[account]].bank_no

    def label(
        self,
        loan: _Loan,
        case: str,
        analysis: str,
        kind: str,
        hops: int,
        arrived: int,
        cents: int,
        route: str,
    ) -> None:
        days = round((arrived - loan.ts) / _DAY, 1)
        detectable = (
            hops <= DEFAULT_HOPS
            and days <= DEFAULT_DAYS
            and cents >= DEFAULT_DUST_CENTS
            and route != "processor"
        )
        values = (
            loan.loan_id,
            case,
            analysis,
            kind,
            hops,
            f"{days:.1f}",
            f"{cents // 100}.{cents % 100:02d}",
            f"{loan.cents // 100}.{loan.cents % 100:02d}",
            route,
            "true" if detectable else "false",
        )
        for col, value in zip(self.labels.values(), values, strict=True):
            col.append(value)

    def share(self, loan: _Loan, low: float, high: float) -> int:
        return round(loan.cents * self.rng.uniform(low, high) / 100) * 100  # whole yuan


# -- the cases ---------------------------------------------------------------------------------------------------


def _rep_account(p: _Planter, loan: _Loan) -> int:
    return p.region.persons.accounts[loan.borrower.rep]


def return_direct(p: _Planter) -> None:
    loan = p.loan()
    cents = p.share(loan, 0.4, 0.7)
    at = p.pay(loan.ts + p.rng.randint(1, 48) * _HOUR, loan.account, _rep_account(p, loan), cents, "借款")
    p.label(loan, "return_direct", "return_flow", "returned", 1, at, cents, "direct")


def return_split(p: _Planter) -> None:
    loan = p.loan()
    total, back, last = p.share(loan, 0.45, 0.75), 0, loan.ts
    for i in range(3):
        part = total // 3 if i < 2 else total - 2 * (total // 3)
        middle = p.person(loan.ts)
        got = p.pay(loan.ts + p.rng.randint(1, 24) * _HOUR, loan.account, middle, part, "货款")
        forward = round(part * 0.95 / 100) * 100
        last = max(
            last,
            p.pay(
                got + p.rng.randint(24, 72) * _HOUR, middle, _rep_account(p, loan), forward, "转账", MOBILE
            ),
        )
        back += forward
    p.label(loan, "return_split", "return_flow", "returned", 2, last, back, "persons")


def return_via_shells(p: _Planter) -> None:
    loan = p.loan()
    cents = p.share(loan, 0.5, 0.8)
    day = dt.datetime.fromtimestamp(loan.ts, dt.UTC).date()
    first = p.shell(day - dt.timedelta(days=p.rng.randint(60, 150)))
    second = p.shell(day - dt.timedelta(days=p.rng.randint(60, 150)))
    at1 = p.pay(loan.ts + p.rng.randint(2, 24) * _HOUR, loan.account, first, cents, "咨询服务费")
    at2 = p.pay(at1 + p.rng.randint(24, 72) * _HOUR, first, second, cents, "往来款")
    back = round(cents * 0.97 / 100) * 100
    at3 = p.pay(at2 + p.rng.randint(24, 72) * _HOUR, second, _rep_account(p, loan), back, "借款")
    p.label(loan, "return_via_shells", "return_flow", "returned", 3, at3, back, "shells")
    p.label(loan, "return_via_shells", "misuse", "shell", 1, at1, cents, "shells")


def return_partial(p: _Planter) -> None:
    loan = p.loan()
    cents = p.share(loan, 0.12, 0.2)
    at = p.pay(loan.ts + p.rng.randint(2, 96) * _HOUR, loan.account, _rep_account(p, loan), cents, "往来款")
    p.label(loan, "return_partial", "return_flow", "returned", 1, at, cents, "direct")


def return_4hops(p: _Planter) -> None:
    loan = p.loan()
    cents = p.share(loan, 0.5, 0.7)
    at, src = loan.ts, loan.account
    for _ in range(3):
        middle = p.person(loan.ts)
        at = p.pay(at + p.rng.randint(12, 48) * _HOUR, src, middle, cents, "转账", MOBILE)
        src, cents = middle, round(cents * 0.98 / 100) * 100
    at = p.pay(at + p.rng.randint(12, 48) * _HOUR, src, _rep_account(p, loan), cents, "转账", MOBILE)
    p.label(loan, "return_4hops", "return_flow", "returned", 4, at, cents, "persons")


def return_late(p: _Planter) -> None:
    loan = p.loan()
    cents = p.share(loan, 0.5, 0.7)
    middle = p.person(loan.ts)
    got = p.pay(loan.ts + p.rng.randint(2, 24) * _HOUR, loan.account, middle, cents, "货款")
    back = round(cents * 0.97 / 100) * 100
    at = p.pay(got + p.rng.randint(34, 40) * _DAY, middle, _rep_account(p, loan), back, "转账", MOBILE)
    p.label(loan, "return_late", "return_flow", "returned", 2, at, back, "persons")


def return_dust(p: _Planter) -> None:
    loan = p.loan()
    cents = p.rng.randint(3, 8) * 10_000  # 300 to 800 yuan
    at = p.pay(loan.ts + p.rng.randint(2, 48) * _HOUR, loan.account, _rep_account(p, loan), cents, "报销")
    p.label(loan, "return_dust", "return_flow", "returned", 1, at, cents, "direct")


def return_via_stop(p: _Planter) -> None:
    loan = p.loan()
    cents = p.share(loan, 0.4, 0.6)
    hub = p.category_account("payment_processor", loan.ts, bank=p.bank_of(loan.account))
    got = p.pay(loan.ts + p.rng.randint(2, 24) * _HOUR, loan.account, hub, cents, "消费")
    back = round(cents * 0.99 / 100) * 100
    at = p.pay(got + p.rng.randint(20, 30) * _HOUR, hub, _rep_account(p, loan), back, "商户结算")
    p.label(loan, "return_via_stop", "return_flow", "returned", 2, at, back, "processor")


def misuse_securities(p: _Planter) -> None:
    loan = p.loan()
    cents = p.share(loan, 0.3, 0.6)
    custody = p.category_account("securities_settlement", loan.ts, bank=p.bank_of(loan.account))
    at = p.pay(loan.ts + p.rng.randint(2, 72) * _HOUR, loan.account, custody, cents, "银证转账")
    p.label(loan, "misuse_securities", "misuse", "securities", 1, at, cents, "direct")


def misuse_securities_2hop(p: _Planter) -> None:
    loan = p.loan()
    cents = p.share(loan, 0.4, 0.6)
    middle = p.person(loan.ts)
    got = p.pay(loan.ts + p.rng.randint(2, 24) * _HOUR, loan.account, middle, cents, "劳务费")
    custody = p.category_account("securities_settlement", loan.ts, bank=p.bank_of(middle))
    moved = round(cents * 0.95 / 100) * 100
    at = p.pay(got + p.rng.randint(24, 96) * _HOUR, middle, custody, moved, "银证转账")
    p.label(loan, "misuse_securities_2hop", "misuse", "securities", 2, at, moved, "persons")


def misuse_real_estate(p: _Planter) -> None:
    loan = p.loan()
    cents = p.share(loan, 0.4, 0.7)
    escrow = p.category_account("real_estate_developer", loan.ts)
    at = p.pay(loan.ts + p.rng.randint(2, 120) * _HOUR, loan.account, escrow, cents, "购房款")
    p.label(loan, "misuse_real_estate", "misuse", "real_estate", 1, at, cents, "direct")


def misuse_other_loan(p: _Planter) -> None:
    loan = p.loan()
    cents = p.share(loan, 0.3, 0.5)
    repayment = p.category_account("loan_repayment", loan.ts, not_bank=p.bank_of(loan.account))
    at = p.pay(loan.ts + p.rng.randint(2, 72) * _HOUR, loan.account, repayment, cents, "还款")
    p.label(loan, "misuse_other_loan", "misuse", "other_loan", 1, at, cents, "direct")


def misuse_shell(p: _Planter) -> None:
    loan = p.loan()
    cents = p.share(loan, 0.5, 0.8)
    day = dt.datetime.fromtimestamp(loan.ts, dt.UTC).date()
    shell = p.shell(day - dt.timedelta(days=p.rng.randint(40, 200)))
    at = p.pay(loan.ts + p.rng.randint(2, 72) * _HOUR, loan.account, shell, cents, "咨询服务费")
    p.label(loan, "misuse_shell", "misuse", "shell", 1, at, cents, "shells")


def misuse_shell_linked(p: _Planter) -> None:
    """A dormant company registered years ago at the borrower's address: a shell and a related party."""
    loan = p.loan()
    cents = p.share(loan, 0.4, 0.7)
    day = dt.datetime.fromtimestamp(loan.ts, dt.UTC).date()
    shell = p.shell(day - dt.timedelta(days=p.rng.randint(900, 2000)), address=loan.borrower.address)
    at = p.pay(loan.ts + p.rng.randint(2, 72) * _HOUR, loan.account, shell, cents, "往来款")
    p.label(loan, "misuse_shell_linked", "misuse", "shell", 1, at, cents, "shells")
    p.label(loan, "misuse_shell_linked", "return_flow", "returned", 1, at, cents, "shells")


CASES: tuple[tuple[str, Callable[[_Planter], None]], ...] = (
    ("return_direct", return_direct),
    ("return_split", return_split),
    ("return_via_shells", return_via_shells),
    ("return_partial", return_partial),
    ("return_4hops", return_4hops),
    ("return_late", return_late),
    ("return_dust", return_dust),
    ("return_via_stop", return_via_stop),
    ("misuse_securities", misuse_securities),
    ("misuse_securities_2hop", misuse_securities_2hop),
    ("misuse_real_estate", misuse_real_estate),
    ("misuse_other_loan", misuse_other_loan),
    ("misuse_shell", misuse_shell),
    ("misuse_shell_linked", misuse_shell_linked),
)


GUARANTOR_CASES = ("return_to_guarantor",)


def plant_guarantor_cases(region: Region) -> None:
    """The generator part after `build_risk_cases`: loans whose proceeds went to their guarantor."""
    rng = region.rng("risk_cases:guarantor")
    labels = region.tables["risk_labels"]
    planter = _Planter(region, rng, labels=labels)
    table = region.tables.setdefault("loan_guarantees", {c: [] for c in GUARANTEE_COLUMNS})
    found = proceeds_to_unrelated(region, set(labels["loan_id"]))
    loans, cal = region.tables["loans"], region.calendar
    for case in sorted(rng.sample(found, min(len(found), CASES_PER_TYPE.get(region.scale.name, 1)))):
        loan_id, ts = loans["loan_id"][case.loan], loans["disbursed_at"][case.loan]
        month = cal.month_of(dt.datetime.fromtimestamp(ts + 8 * _HOUR, dt.UTC).date())
        loan = _Loan(loan_id, case.borrower, case.account, loans["amount"][case.loan], ts, month)
        add_row(table, loan_id, "enterprise", case.payee.uscc, case.payee.name, "joint_liability", loan.cents,
                signed_on(rng, ts))  # fmt: skip
        planter.label(
            loan, "return_to_guarantor", "return_flow", "returned", 1, case.last, case.cents, "direct"
        )


def build_risk_cases(region: Region) -> None:
    """The generator part: plant every case type a few times (by scale) and keep the labels on the region."""
    planter = _Planter(region, region.rng("risk_cases"))
    for _ in range(CASES_PER_TYPE.get(region.scale.name, 1)):
        for _name, plant in CASES:
            plant(planter)
    region.tables["risk_labels"] = planter.labels


def write_labels(region: Region, out: Path) -> Path:
    """Write `risk_labels.csv` (UTF-8, header, \\n line ends) next to the region's datasets; not ingested."""
    labels = region.tables.get("risk_labels") or {c: [] for c in LABEL_COLUMNS}
    path = Path(out) / LABELS_FILE
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(LABEL_COLUMNS)
        writer.writerows(zip(*(labels[c] for c in LABEL_COLUMNS), strict=True))
    return path


def read_labels(path: Path) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
