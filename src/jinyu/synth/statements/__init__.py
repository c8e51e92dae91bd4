"""Presented bank statements for statement verification: genuine ones and tampered ones, with ground truth.

Written after the datasets, from the transfers ledger as written (so every statement line is what the hub
will load): for a few active enterprises' settlement accounts, the statement of one month, rendered as CSV
(docs/statement-verification.md) or ISO 20022 camt.053.001.08, into `<out>/statements/`, and
`statements_labels.csv` saying what was done to each and the verdict a verifier should reach:

| tampering | what | expected |
| --- | --- | --- |
| none | the ledger as a bank prints it: payroll batches as one line, late-evening lines booked the next day | genuine |
| inserted | about 5% invented lines (unknown counterparties), balances recomputed | suspicious |
| deleted | about 5% of the outgoing lines left off, balances recomputed | suspicious |
| deleted_unbalanced | lines left off and the running balances not fixed | suspicious |
| altered | about 5% of the smaller lines with a changed amount, balances recomputed | suspicious |
| balance_break | one running balance off by 1,000.00 | suspicious |
| fabricated | a quarter of the real lines, padded with three times as many invented inflows | fabricated |
| opening_break | every printed balance 50,000.00 higher than the ledger's (own arithmetic flawless) | suspicious |

Balances of record (generator 1.6): the `opening_balances` rows of the statements' accounts, the genuine
opening balance (before any tampering) as of the period's first day; for the opening_break statement's
account as of `RECORD_DAYS_BEFORE` days earlier (that balance plus the ledger's net flow up to the first day is
the genuine opening), so verification exercises the roll-forward. Labels add `opening_of_record` (the
balance of record at the period start) and `opening_break` (stated − record, empty when none).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jinyu.synth.model import Enterprise, Region
from jinyu.synth.statements.model import SH, Line, Presented, running
from jinyu.synth.statements.render import render_camt053, render_csv
from jinyu.synth.statements.tamper import TAMPER

STATEMENTS_DIR = "statements"
LABELS_FILE = "statements_labels.csv"
LABEL_COLUMNS = (
    "file", "format", "account_no", "enterprise_uscc", "period_start", "period_end", "tampering",
    "expected_verdict", "lines", "inserted", "deleted", "altered", "balance_breaks", "opening_of_record",
    "opening_break",
)  # fmt: skip
# (tampering, format, expected verdict), one statement each, in this order.
KINDS = (
    ("none", "csv", "genuine"),
    ("none", "camt053", "genuine"),
    ("inserted", "csv", "suspicious"),
    ("deleted", "camt053", "suspicious"),
    ("altered", "csv", "suspicious"),
    ("balance_break", "csv", "suspicious"),
    ("deleted_unbalanced", "csv", "suspicious"),
    ("fabricated", "camt053", "fabricated"),
    ("opening_break", "csv", "suspicious"),
)
RECORD_DAYS_BEFORE = 10
MIN_LINES, MAX_LINES = 20, 4000


def write_statements(region: Region, out: Path) -> list[Path]:
    """Write the statements and their labels; returns the files written (labels last)."""
    target = Path(out) / STATEMENTS_DIR
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("statement-*"):
        old.unlink()
    rng = region.rng("statements")
    month = region.calendar.months - 3
    start = dt.date.fromisoformat(f"{region.calendar.period(month)}-01")
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    month_rows = _month_transfers(out, start, end)
    chosen = _choose(
        rng, month_rows, sorted({region.accounts.numbers[e.settlement] for e in _active(region)})
    )
    ledgers = _ledgers(month_rows, chosen)
    index = _account_index(region, {_other(r, a) for a in chosen for r in ledgers[a]} | set(chosen))
    written, labels = [], []
    balances: dict[str, list[object]] = {"account_no": [], "as_of": [], "balance": [], "currency": []}
    for k, ((tampering, fmt, expected), account) in enumerate(zip(KINDS, chosen, strict=False), start=1):
        genuine = _genuine(region, rng, index, account, ledgers[account], (start, end))
        stmt = TAMPER[tampering](rng, genuine)
        _record(out, balances, genuine, RECORD_DAYS_BEFORE if tampering == "opening_break" else 0)
        if fmt == "csv":  # many banks' CSV exports carry their serial number on some lines only
            stmt.lines = [replace(x, reference="") if i % 2 else x for i, x in enumerate(stmt.lines)]
        name = f"statement-{k:02d}-{tampering}.{'xml' if fmt == 'camt053' else 'csv'}"
        path = target / name
        path.write_bytes(render_camt053(stmt, f"SYN{k:04d}") if fmt == "camt053" else render_csv(stmt))
        written.append(path)
        labels.append(_label(name, fmt, expected, stmt, genuine.opening))
    written.append(_write_labels(target, labels))
    region.tables["opening_balances"] = balances
    return written


def _record(out: Path, balances: dict[str, list[object]], genuine: Presented, days_before: int) -> None:
    """The account's balance of record: the genuine opening at the period start, or the balance `days_before`
    earlier that the ledger's net flow since then brings to it."""
    as_of = genuine.start - dt.timedelta(days=days_before)
    balance = genuine.opening
    if days_before:
        rows = _month_transfers(out, as_of, genuine.start - dt.timedelta(days=1))
        for row in rows.to_pylist():
            amount = row["amount"]
            assert isinstance(amount, Decimal)
            if row["to_account"] == genuine.account_no:
                balance -= amount
            if row["from_account"] == genuine.account_no:
                balance += amount
    balances["account_no"].append(genuine.account_no)
    balances["as_of"].append(as_of)
    balances["balance"].append(int(balance * 100))
    balances["currency"].append("CNY")


# -- reading the ledger back ---------------------------------------------------------------------------------


def _transfer_files(out: Path) -> list[Path]:
    single = out / "transfers.parquet"
    return [single] if single.exists() else sorted((out / "transfers").glob("part-*.parquet"))


def _month_transfers(out: Path, start: dt.date, end: dt.date) -> pa.Table:
    lo = dt.datetime.combine(start, dt.time(0), SH)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), SH)
    tables = [
        pq.read_table(path, filters=[("ts", ">=", lo), ("ts", "<", hi)]) for path in _transfer_files(out)
    ]
    return pa.concat_tables(tables)


def _choose(rng: random.Random, month: pa.Table, candidates: list[str]) -> list[str]:
    """Candidate accounts with MIN_LINES..MAX_LINES transfers in the month, a few picked at random."""
    sides = pa.concat_arrays([month["from_account"].combine_chunks(), month["to_account"].combine_chunks()])
    sides = sides.filter(pc.is_in(sides, pa.array(candidates, pa.string())))
    counts = pc.value_counts(sides).to_pylist()
    fit = sorted(str(c["values"]) for c in counts if MIN_LINES <= c["counts"] <= MAX_LINES)
    return rng.sample(fit, min(len(KINDS), len(fit)))


def _ledgers(month: pa.Table, chosen: list[str]) -> dict[str, list[dict[str, object]]]:
    """Each chosen account's transfers, as written (time order, txn_id increasing)."""
    wanted = pa.array(chosen, pa.string())
    mask = pc.or_(pc.is_in(month["from_account"], wanted), pc.is_in(month["to_account"], wanted))
    ledgers: dict[str, list[dict[str, object]]] = {a: [] for a in chosen}
    for row in month.filter(mask).to_pylist():
        for side in ("from_account", "to_account"):
            if row[side] in ledgers:
                ledgers[str(row[side])].append(row)
    return ledgers


def _active(region: Region) -> list[Enterprise]:
    return [
        e
        for e in region.enterprises
        if e.status == "active" and e.settlement >= 0 and e.kind not in ("processor", "securities")
    ]


def _account_index(region: Region, wanted: set[str]) -> dict[str, int]:
    return {n: i for i, n in enumerate(region.accounts.numbers) if n in wanted}


def _genuine(
    region: Region,
    rng: random.Random,
    index: dict[str, int],
    account: str,
    rows: list[dict[str, object]],
    period: tuple[dt.date, dt.date],
) -> Presented:
    book, (start, end) = region.accounts, period
    me = index[account]
    lines = [_line(row, account, book.owner_name[index[_other(row, account)]], end) for row in rows]
    lines = _batch_payroll(lines)
    low = min(running(Decimal(0), lines), default=Decimal(0))
    opening = max(Decimal(0), -low) + Decimal(rng.randrange(50_000, 2_000_000))
    return Presented(account, book.owner_name[me], book.owner_id[me], start, end, opening, lines)


def _other(row: dict[str, object], account: str) -> str:
    return str(row["to_account"] if row["from_account"] == account else row["from_account"])


def _line(row: dict[str, object], account: str, name: str, end: dt.date) -> Line:
    ts = row["ts"]
    assert isinstance(ts, dt.datetime)
    local = ts.astimezone(SH)
    day, at = local.date(), local.time().replace(tzinfo=None)
    late = at >= dt.time(23, 0) and day < end
    amount = row["amount"]
    assert isinstance(amount, Decimal)
    signed = -amount if row["from_account"] == account else amount
    # A late-evening transfer is booked the next morning (no time printed).
    return Line(day + dt.timedelta(days=1) if late else day, None if late else at, _other(row, account), name,
                signed, str(row["txn_id"]), str(row["memo"] or ""))  # fmt: skip


def _batch_payroll(lines: list[Line]) -> list[Line]:
    """Banks print a day's payroll run as one line (memo 代发工资, no counterparty, no reference), where its
    first transfer was."""
    out: list[Line] = []
    batch_at: dict[dt.date, int] = {}
    for line in lines:
        if line.memo != "代发工资":
            out.append(line)
        elif line.booked_on in batch_at:
            k = batch_at[line.booked_on]
            out[k] = replace(out[k], amount=out[k].amount + line.amount)
        else:
            batch_at[line.booked_on] = len(out)
            out.append(replace(line, counterparty_account="", counterparty_name="", reference=""))
    return out


# -- labels ----------------------------------------------------------------------------------------------------


def _label(name: str, fmt: str, expected: str, s: Presented, of_record: Decimal) -> list[object]:
    gap = s.opening - of_record
    return [
        name, fmt, s.account_no, s.uscc, s.start, s.end, s.tampering, expected, len(s.lines),
        s.inserted, s.deleted, s.altered, s.breaks, f"{of_record:.2f}", f"{gap:.2f}" if gap else "",
    ]  # fmt: skip


def _write_labels(target: Path, rows: list[list[object]]) -> Path:
    path = target / LABELS_FILE
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(LABEL_COLUMNS)
        w.writerows(rows)
    return path


__all__ = [
    "KINDS",
    "LABELS_FILE",
    "STATEMENTS_DIR",
    "Line",
    "Presented",
    "render_camt053",
    "render_csv",
    "write_statements",
]
