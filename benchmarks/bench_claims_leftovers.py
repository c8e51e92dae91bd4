"""The settling thread's small leftovers, old code beside new, alternating in one process (issue 20, h-br).

Why: each of these is a few µs to tens of µs per settlement, far below what a whole-batch A/B resolves on the
shared 2-core machine. Here each piece runs on the HTTP bench's own discharges (`bench_claims._request`, the
sample product, as `bench_claims_answer_pieces.make_cases` builds them), once per settlement as the settling
thread runs it, the old code (kept verbatim below, from main at 70dcb08) and the new one in alternating blocks;
both sides' outputs are checked equal first; medians of the blocks' CPU (this thread's clock), paired ratios.

Pieces:
- `json_read`: psycopg's loader of a `json` column, on what a settlement's reads decode (the enrollment's
  `pre_existing`, once in the first reads and once under the lock; the bench's persons have `[]`) — old: the
  json module (psycopg's default), new: `core.db.json_loads` registered as the engine does it.
- `claim_of`: the canonical claim — old: `model_copy` then `model_dump`, `str(to_fen(v))`, the ID's
  `re.sub` with a pattern string, `hmac.new(...).hexdigest()` and the token's version read back by a regex;
  new: the record dumped and two keys set, `quantize` in place, a compiled pattern, `hmac.digest`.
- `day_and_bill`: the batch's business dates and the rules' bill — old: `bill_of` works the date out again;
  new: it is handed the date `_covered` already has.
- `books`: funding plan and the journal's starting balances — old: `ledger.balances(book)` in `plan` and
  again in `post_all`; new: `post_all` starts from the plan's. (The journals' and books' writes are not sent:
  `repo.add_journals` and `repo.store_book_balances` are stubbed alike on both sides.)
- `to_fen`: `core.money.to_fen` without its `Decimal(amount)` copy when given a Decimal, on the canonical
  bill's amounts (those `bill_of` rounds once per settlement; adjudication rounds more).

Usage: uv run python benchmarks/bench_claims_leftovers.py [--blocks 9] [--n 1500]
       [--out claims-leftovers-issue20-h-br.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg
from bench_claims import _request, _resident_id
from bench_claims_answer_pieces import KEY, make_cases
from machine import machine_info, python_loop_ms, result_path
from psycopg.adapt import AdaptersMap
from psycopg.pq import Format
from psycopg.types.json import set_json_loads

from jinyu.claim import repository as repo
from jinyu.claim.models import ClaimLedgerBook, ClaimSettlement
from jinyu.claim.rules import ledger as ledger_rules
from jinyu.claim.rules.ledger import Balances, BookMode, Fallback, Funding, JournalKind
from jinyu.claim.rules.product import ZERO
from jinyu.claim.schemas import BillIn, SettleIn
from jinyu.claim.service import booking, ledger
from jinyu.claim.service.booking import Deferral, Plan, postings_of, split
from jinyu.claim.service.common import LoadedProduct, Person, business_date, request_hash
from jinyu.claim.service.intake import (
    LINE_V2,
    SETLINFO_V2,
    Claim,
    _without_unset,
    bill_of,
    claim_of,
    setl_time_of,
    shanghai_time,
)
from jinyu.core import db
from jinyu.core.clock import as_utc, utcnow
from jinyu.core.db import detached, new_id
from jinyu.core.errors import invalid
from jinyu.core.ids import ric_check_digit
from jinyu.core.money import FEN, to_fen
from jinyu.core.privacy import PERSON_DOMAIN, Keys, as_keyring, mask, token_version
from jinyu.core.pseudokeys import Keyring

# ------------------------------------------------------------------------------------------------ old code
# Verbatim from 70dcb08: core/ids.py `compact`, `validate_resident_id`; core/privacy.py `pseudonymize`,
# `advance`, `advance_one`; claim/service/common.py `person`; claim/service/intake.py `claim_of`, `_fen_text`;
# claim/service/booking.py `plan`, `book_hold_or_settle`; claim/service/ledger.py `post_all`;
# core/money.py `to_fen`.

_RIC_RE = re.compile(r"^\d{17}[\dX]$")


def old_compact(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


def old_validate_resident_id(value: str, field_name: str = "resident_id") -> str:
    number = old_compact(value)
    if not _RIC_RE.match(number):
        raise invalid(
            field_name, "身份证号应为17位数字加校验位 / ID must be 17 digits plus a check character"
        )
    if not 11 <= int(number[:2]) <= 82:
        raise invalid(field_name, "身份证号地区码无效 / region code is not a Chinese province")
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise invalid(field_name, "身份证号出生日期无效 / birth date is not a real date") from None
    if not dt.date(1900, 1, 1) <= born <= dt.date.today():
        raise invalid(field_name, "身份证号出生日期超出范围 / birth date out of range")
    if ric_check_digit(number[:17]) != number[17]:
        raise invalid(field_name, "身份证号校验位错误 / ID check character is wrong")
    return number


def old_advance_one(key: bytes, token: str, version: int) -> str:
    digest = hmac.new(key, f"rotate\x1f{token}".encode(), hashlib.sha256).hexdigest()
    return f"pt_v{version}_{digest[:32]}"


def old_advance(ring: Keyring, token: str, target: int) -> str:
    version = token_version(token)
    if version is None or version >= target:
        return token
    for v in range(version + 1, target + 1):
        token = old_advance_one(ring.key(v), token, v)
    return token


def old_pseudonymize(key: Keys, value: str, domain: str = "") -> str:
    ring = as_keyring(key)
    digest = hmac.new(ring.key(1), f"{domain}\x1f{value}".encode(), hashlib.sha256).hexdigest()
    return old_advance(ring, f"pt_{digest[:32]}", ring.current)


def old_person(certno: str, key: Keys, field_name: str = "certno") -> Person:
    number = old_validate_resident_id(certno, field_name)
    return Person(old_pseudonymize(key, number, PERSON_DOMAIN), mask(number, 6, 4) or "")


def old_to_fen(amount: Decimal | int | str) -> Decimal:
    return Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP)


def old_fen_text(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, Decimal):
            out[k] = str(old_to_fen(v))
        elif isinstance(v, dt.datetime):
            out[k] = as_utc(v).isoformat()  # one instant, one text
        else:
            out[k] = v
    return out


def old_claim_of(
    data: BillIn,
    *,
    namespace: str,
    hospital_id: str,
    channel: str,
    msg_id: str,
    key: Keys,
    pharmacy: bool = False,
) -> Claim:
    who = old_person(data.certno.get_secret_value(), key)
    update: dict[str, Any] = {"setl_time": shanghai_time(data.setlinfo.setl_time)}
    if data.setlinfo.psn_no is not None:  # a person identifier: kept only as its keyed token
        update["psn_no"] = old_pseudonymize(key, data.setlinfo.psn_no, "psn_no")
    setlinfo = data.setlinfo.model_copy(update=update)
    doc: dict[str, Any] = {
        "product_code": data.product_code,
        "setlinfo": old_fen_text(_without_unset(setlinfo.model_dump(), SETLINFO_V2)),
        "lines": [old_fen_text(_without_unset(line.model_dump(), LINE_V2)) for line in data.lines],
    }
    if data.lines_complete is not None:
        doc["lines_complete"] = data.lines_complete
    digest = request_hash({"person": who.token, "hospital": hospital_id, **doc})
    return Claim(namespace, hospital_id, channel, msg_id, who, data.product_code, doc, digest, pharmacy)


def old_plan(loaded: LoadedProduct, result: Any, books: dict[str, ClaimLedgerBook]) -> Plan:
    parts = split(loaded, result)
    totals: dict[str, Decimal] = {}
    for _, iid, amount in parts:
        totals[iid] = totals.get(iid, ZERO) + amount
    funding: dict[str, Funding] = {}
    for iid, amount in sorted(totals.items()):
        book = books[iid]
        f = ledger_rules.fund(amount, ledger.balances(book), BookMode(book.mode), Fallback(book.fallback))
        if f is None:
            raise Deferral(
                "prepaid_insufficient",
                f"预付金余额不足（{book.prepaid} < {amount}），转出院后理赔 / prepaid balance {book.prepaid} below "
                f"{amount}: the claim goes to the post-discharge path",
                (book.id,),
            )
        funding[iid] = f
    return Plan(parts, totals, {iid: books[iid] for iid in totals}, funding)


def old_post_all(session: Any, entries: Sequence[ledger.Entry], actor_id: str) -> list[str]:
    at = utcnow()
    first: dict[str, Balances] = {}
    last: dict[str, Balances] = {}
    books: dict[str, ClaimLedgerBook] = {}
    journals: list[dict[str, object]] = []
    postings: list[dict[str, object]] = []
    for e in entries:
        book_id = e.book.id
        books[book_id] = e.book
        before = last.get(book_id) or first.setdefault(book_id, ledger.balances(e.book))
        last[book_id] = before.apply(e.postings)
        journal_id = new_id()
        journals.append(
            {
                "id": journal_id,
                "book_id": book_id,
                "kind": e.kind.value,
                "reference": e.reference,
                "settlement_id": e.settlement_id,
                "amount": e.amount,
                "memo": e.memo,
                "actor_id": actor_id,
                "at": at,
            }
        )
        postings += [
            {"id": new_id(), "journal_id": journal_id, "book_id": book_id, "account": a.value, "amount": v}
            for a, v in e.postings
        ]
    repo.add_journals(session, journals, postings)
    repo.store_book_balances(session, [(books[b], after.as_dict()) for b, after in last.items()], at)
    for book_id, after in last.items():
        ledger._watch_balance(session, books[book_id], first[book_id], after)
    return [str(j["id"]) for j in journals]


def old_book_hold_or_settle(
    session: Any, settlement: ClaimSettlement, p: Plan, *, confirm: bool, actor: str
) -> None:
    kind = JournalKind.SETTLE if confirm else JournalKind.HOLD
    reference = f"settlement:{settlement.id}:{kind.value}"
    funded = sorted(p.funding.items())
    entries = [
        ledger.Entry(p.books[i], kind, reference, f.amount, postings_of(f, confirm=confirm), settlement.id)
        for i, f in funded
    ]
    old_post_all(session, entries, actor)
    # (the overdraw alert after it: never raised here, the books are deep)


# ------------------------------------------------------------------------------------------------ inputs

OLD_JSON = psycopg.adapters.get_loader(psycopg.adapters.types["json"].oid, Format.TEXT)
_new_map = AdaptersMap(psycopg.adapters)
set_json_loads(db.json_loads, _new_map)  # as the engine does (`create_engine(json_deserializer=...)`)
NEW_JSON = _new_map.get_loader(psycopg.adapters.types["json"].oid, Format.TEXT)
PRE_EXISTING = b"[]"  # what the bench's persons have (`claim_enrollments.pre_existing`)


def make_books() -> dict[str, ClaimLedgerBook]:
    return {
        iid: detached(
            ClaimLedgerBook,
            id=f"book-{iid}",
            mode="prepaid",
            fallback="arrears",
            prepaid=Decimal("100000000.00"),
            held=ZERO,
            payable=ZERO,
            claims=ZERO,
            bank=ZERO,
            low_balance_threshold=Decimal("1000.00"),
        )
        for iid in ("ins-a", "ins-b")
    }


class Inputs:
    def __init__(self, n: int) -> None:
        self.cases = make_cases(n)
        self.data = [
            SettleIn.model_validate(_request(_resident_id(i), i, random.Random(i))) for i in range(n)
        ]
        self.books = make_books()
        self.row = detached(ClaimSettlement, id=new_id())


# ------------------------------------------------------------------------------------------------ pieces


def piece_json_read(old: bool, inputs: Inputs) -> float:
    loader = (OLD_JSON if old else NEW_JSON)(psycopg.adapters.types["json"].oid, None)  # type: ignore[misc]
    data = memoryview(PRE_EXISTING)  # psycopg hands the loader a buffer
    t0 = time.thread_time()
    for _ in inputs.cases:
        loader.load(data)  # the first reads' coverage row
        loader.load(data)  # the locked read
    return time.thread_time() - t0


def piece_claim_of(old: bool, inputs: Inputs) -> float:
    make = old_claim_of if old else claim_of
    t0 = time.thread_time()
    for d in inputs.data:
        make(d, namespace="h-1", hospital_id="h-1", channel="direct", msg_id=d.msg_id, key=KEY)
    return time.thread_time() - t0


def piece_day_and_bill(old: bool, inputs: Inputs) -> float:
    t0 = time.thread_time()
    if old:
        for c in inputs.cases:
            _ = business_date(setl_time_of(c.claim.doc))
            bill_of(c.claim.doc, c.claim.hospital_id, c.claim.pharmacy)
    else:
        for c in inputs.cases:
            day = business_date(setl_time_of(c.claim.doc))
            bill_of(c.claim.doc, c.claim.hospital_id, c.claim.pharmacy, day=day)
    return time.thread_time() - t0


def piece_books(old: bool, inputs: Inputs) -> float:
    books, row = inputs.books, inputs.row
    t0 = time.thread_time()
    if old:
        for c in inputs.cases:
            p = old_plan(c.loaded, c.result, books)
            old_book_hold_or_settle(None, row, p, confirm=True, actor="bench")
    else:
        for c in inputs.cases:
            p = booking.plan(c.loaded, c.result, books)
            booking.book_hold_or_settle(None, row, p, confirm=True, actor="bench")  # type: ignore[arg-type]
    return time.thread_time() - t0


def piece_to_fen(old: bool, inputs: Inputs) -> float:
    fen = old_to_fen if old else to_fen
    amounts = [Decimal(str(v)) for v in inputs.cases[0].claim.doc["setlinfo"].values() if _amount(v)]
    t0 = time.thread_time()
    for _ in inputs.cases:
        for a in amounts:
            fen(a)
    return time.thread_time() - t0


def _amount(v: Any) -> bool:
    return isinstance(v, str) and re.fullmatch(r"\d+\.\d\d", v) is not None


PIECES: dict[str, Callable[[bool, Inputs], float]] = {
    "json_read": piece_json_read,
    "claim_of": piece_claim_of,
    "day_and_bill": piece_day_and_bill,
    "books": piece_books,
    "to_fen": piece_to_fen,
}


def check_same(inputs: Inputs) -> None:
    """Both sides give the same objects, documents, hashes, bills, plans and journals."""
    for raw in (PRE_EXISTING, b'["E11", "I10"]', '{"n": 18446744073709551616, "s": "医保"}'.encode()):
        a = OLD_JSON(0, None).load(memoryview(raw))  # type: ignore[misc]
        b = NEW_JSON(0, None).load(memoryview(raw))  # type: ignore[misc]
        assert json.dumps(a) == json.dumps(b) and type(a) is type(b)
    for d in inputs.data[:200]:
        args: dict[str, Any] = {
            "namespace": "h-1",
            "hospital_id": "h-1",
            "channel": "direct",
            "msg_id": d.msg_id,
        }
        old, new = old_claim_of(d, key=KEY, **args), claim_of(d, key=KEY, **args)
        assert old == new, (old, new)
        assert json.dumps(old.doc) == json.dumps(new.doc)  # same keys in the same order
        ring = Keyring({1: KEY, 2: b"k2" * 16, 3: b"k3" * 16}, current=3)  # rotated keys: the same tokens
        assert old_claim_of(d, key=ring, **args) == claim_of(d, key=ring, **args)
    for c in inputs.cases[:200]:
        day = business_date(setl_time_of(c.claim.doc))
        assert bill_of(c.claim.doc, "h-1") == bill_of(c.claim.doc, "h-1", day=day)
        for a in (Decimal("1.005"), Decimal("0"), Decimal("-2.675"), Decimal("12345678901234.5")):
            assert str(old_to_fen(a)) == str(to_fen(a))
    journals: dict[bool, list[Any]] = {}
    for side in (True, False):
        books = make_books()
        sent: list[Any] = []
        repo.add_journals = _keeping(sent)  # type: ignore[assignment]
        repo.store_book_balances = _moving  # type: ignore[assignment]
        for c in inputs.cases[:200]:
            if side:
                p = old_plan(c.loaded, c.result, books)
                old_book_hold_or_settle(None, inputs.row, p, confirm=True, actor="bench")
            else:
                p = booking.plan(c.loaded, c.result, books)
                booking.book_hold_or_settle(None, inputs.row, p, confirm=True, actor="bench")  # type: ignore[arg-type]
        journals[side] = [sent, {i: ledger.balances(b) for i, b in books.items()}]
    assert journals[True] == journals[False]


def _keeping(sent: list[Any]) -> Callable[[Any, list[dict[str, Any]], list[dict[str, Any]]], None]:
    """`add_journals` without the database: the journals and postings kept, less their fresh ids and time."""

    def add(_session: Any, journals: list[dict[str, Any]], postings: list[dict[str, Any]]) -> None:
        sent.append(
            (
                [{k: v for k, v in x.items() if k not in ("id", "at", "journal_id")} for x in journals],
                [{k: v for k, v in x.items() if k not in ("id", "journal_id")} for x in postings],
            )
        )

    return add


def _moving(_session: Any, moved: Any, _at: Any) -> None:
    """`store_book_balances` without the database: the books show their new balances, as after it."""
    for book, balances in moved:
        book.__dict__.update(balances)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blocks", type=int, default=9)
    ap.add_argument("--n", type=int, default=1500, help="settlements per block")
    ap.add_argument("--out", default="claims-leftovers-issue20-h-br.json")
    args = ap.parse_args()
    add_journals, store_book_balances = repo.add_journals, repo.store_book_balances
    try:
        inputs = Inputs(args.n)
        check_same(inputs)
        repo.add_journals = lambda _s, _j, _p: None  # type: ignore[assignment]  # built, not sent
        repo.store_book_balances = lambda _s, _m, _a: None  # type: ignore[assignment]
        before = python_loop_ms()
        results: dict[str, Any] = {}
        for name, piece in PIECES.items():
            piece(True, inputs), piece(False, inputs)  # warm
            old_us, new_us = [], []
            for _ in range(args.blocks):
                old_us.append(1e6 * piece(True, inputs) / len(inputs.cases))
                new_us.append(1e6 * piece(False, inputs) / len(inputs.cases))
            o, n = statistics.median(old_us), statistics.median(new_us)
            ratios = sorted(b / a for a, b in zip(old_us, new_us, strict=True))
            results[name] = {
                "old_us_per_settlement": round(o, 2),
                "new_us_per_settlement": round(n, 2),
                "saved_us_per_settlement": round(o - n, 2),
                "ratio_of_medians": round(n / o, 3),
                "paired_ratio_median": round(statistics.median(ratios), 3),
                "paired_ratio_min_max": [round(ratios[0], 3), round(ratios[-1], 3)],
                "blocks_lower": sum(1 for a, b in zip(old_us, new_us, strict=True) if b < a),
                "old_blocks_us": [round(x, 2) for x in old_us],
                "new_blocks_us": [round(x, 2) for x in new_us],
            }
            print(name, {k: v for k, v in results[name].items() if not k.endswith("blocks_us")})
        after = python_loop_ms()
    finally:
        repo.add_journals, repo.store_book_balances = add_journals, store_book_balances  # type: ignore[assignment]
    total = sum(r["saved_us_per_settlement"] for r in results.values())
    print(f"saved in all: {total:.1f} µs per settlement")
    out = {
        "benchmark": "settling thread's leftovers: json reads, canonical claim, day and bill, books; old and new "
        "code alternating (issue 20, h-br)",
        "command": " ".join(["benchmarks/bench_claims_leftovers.py", *sys.argv[1:]]),
        "blocks": args.blocks,
        "settlements_per_block": args.n,
        "pieces": results,
        "saved_us_per_settlement": round(total, 1),
        "calibration": {"before": before, "after": after},
        "machine": machine_info(),
    }
    target = result_path(args.out)
    target.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
