"""The documented CSV statement layout (docs/statement-verification.md).

A block of `key,value` rows (account, period, balances), then a header row naming the line columns, then one
row per statement line. Keys and column names are accepted in English or Chinese; blank rows and rows
starting with `#` are skipped. UTF-8 (with or without BOM), or GB18030 as Chinese banks' exports often are.
Errors name the file's line number (`line 14/amount`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from jinyu.risk.statements.parsing import values
from jinyu.risk.statements.parsing.values import Bad, Problems
from jinyu.risk.statements.rules import Statement, StatementLine

META_KEYS: dict[str, tuple[str, ...]] = {
    "account": ("account", "account_no", "账号"),
    "account_name": ("account_name", "户名"),
    "currency": ("currency", "币种"),
    "period": ("period", "期间"),
    "period_start": ("period_start", "起始日期"),
    "period_end": ("period_end", "截止日期"),
    "opening_balance": ("opening_balance", "期初余额"),
    "closing_balance": ("closing_balance", "期末余额"),
}
COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date", "交易日期", "记账日期"),
    "time": ("time", "交易时间"),
    "counterparty_account": ("counterparty_account", "对方账号"),
    "counterparty_name": ("counterparty_name", "对方户名"),
    "amount": ("amount", "金额", "交易金额"),
    "debit": ("debit", "借方发生额", "支出"),
    "credit": ("credit", "贷方发生额", "收入"),
    "balance": ("balance", "余额"),
    "reference": ("reference", "流水号", "交易流水号"),
    "memo": ("memo", "摘要", "用途"),
}
T = TypeVar("T")
DEFAULT_CURRENCY = "CNY"
_META_ALIASES = {alias.casefold(): key for key, aliases in META_KEYS.items() for alias in aliases}
_COLUMN_ALIASES = {alias.casefold(): key for key, aliases in COLUMNS.items() for alias in aliases}


def decode(data: bytes, problems: Problems) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        problems.add(
            "file", f"无法识别的文本编码（应为 UTF-8 或 GB18030）/ not UTF-8 or GB18030 text: {exc.reason}"
        )
        problems.raise_if_any()
        raise AssertionError("unreachable") from None


@dataclass
class _Reader:
    problems: Problems = field(default_factory=Problems)
    meta: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (line number, value)
    columns: dict[str, int] = field(default_factory=dict)  # column key -> position
    positions: dict[str, int] = field(default_factory=dict)  # every column key -> position, -1 when absent
    width: int = 0
    header_line: int = 0
    lines: list[StatementLine] = field(default_factory=list)


def parse_csv(data: bytes) -> Statement:
    reader = _Reader()
    text = decode(data, reader.problems)
    for number, row in _rows(text, reader.problems):
        if reader.problems.full:
            break
        if not reader.columns:
            _meta_or_header(reader, number, row)
        else:
            _line(reader, number, row)
    if not reader.columns:
        reader.problems.add("header", "缺少流水表头（含 date 列）/ no line header row (with a date column)")
    statement = _statement(reader)
    reader.problems.raise_if_any()
    assert statement is not None
    return statement


def _rows(text: str, problems: Problems) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            cells = [c.strip() for c in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            yield reader.line_num, cells
    except csv.Error as exc:
        problems.add(f"line {reader.line_num}", f"CSV 格式错误 / bad CSV: {exc}")


def _meta_or_header(reader: _Reader, number: int, row: list[str]) -> None:
    keys = [_COLUMN_ALIASES.get(c.casefold()) for c in row]
    if "date" in keys:
        _header(reader, number, row, keys)
        return
    key = _META_ALIASES.get(row[0].casefold())
    if key is None:
        return  # banks add rows of their own (branch, print time): not ours to judge
    if len(row) < 2 or not row[1]:
        reader.problems.add(f"line {number}/{key}", "缺少值 / missing value")
        return
    reader.meta[key] = (number, row[1])


def _header(reader: _Reader, number: int, row: list[str], keys: list[str | None]) -> None:
    where = f"line {number}"
    # Columns of a bank's own (opening branch, channel) are ignored, like its own key rows.
    reader.columns = {k: pos for pos, k in enumerate(keys) if k is not None}
    reader.positions = {key: reader.columns.get(key, -1) for key in COLUMNS}
    reader.width = max(reader.columns.values(), default=-1) + 1
    reader.header_line = number
    has_amount, has_split = (
        "amount" in reader.columns,
        "debit" in reader.columns or "credit" in reader.columns,
    )
    if has_amount == has_split:
        reader.problems.add(
            where,
            "须有 amount 列，或 debit 与 credit 列（二选一）/ need amount, or debit and credit (not both)",
        )
    elif has_split and not ("debit" in reader.columns and "credit" in reader.columns):
        reader.problems.add(where, "debit 与 credit 列须同时存在 / debit and credit go together")


def _line(reader: _Reader, number: int, row: list[str]) -> None:
    where = f"line {number}"
    if len(row) < reader.width:
        reader.problems.add(
            where, f"列数不足：应至少 {reader.width} 列，实为 {len(row)} / expected {reader.width} columns"
        )
        return
    row.append("")  # columns the header does not have read this empty cell
    pos = reader.positions
    try:
        booked_on, at = values.date_time(row[pos["date"]])
    except Bad as exc:
        reader.problems.add(f"{where}/date", str(exc))
        return
    at = _time(reader, where, row[pos["time"]]) or at
    amount = _amount(reader, where, row, pos)
    balance = _optional_amount(reader, f"{where}/balance", row[pos["balance"]])
    if amount is None:
        return
    reader.lines.append(
        StatementLine(
            where, booked_on, amount, at, row[pos["counterparty_account"]] or None,
            row[pos["counterparty_name"]] or None, balance, row[pos["reference"]] or None, row[pos["memo"]] or None,
        )
    )  # fmt: skip


def _time(reader: _Reader, where: str, text: str) -> dt.time | None:
    if not text:
        return None
    try:
        return values.time(text)
    except Bad as exc:
        reader.problems.add(f"{where}/time", str(exc))
        return None


def _amount(reader: _Reader, where: str, row: list[str], pos: dict[str, int]) -> Decimal | None:
    if "amount" in reader.columns:
        text = row[pos["amount"]]
        if not text:
            reader.problems.add(f"{where}/amount", "缺少金额 / missing amount")
            return None
        value = _optional_amount(reader, f"{where}/amount", text)
    else:
        value = _debit_credit(reader, where, row[pos["debit"]], row[pos["credit"]])
    if value is not None and value == 0:
        reader.problems.add(f"{where}/amount", "金额不能为 0 / amount must not be zero")
        return None
    return value


def _debit_credit(reader: _Reader, where: str, debit_text: str, credit_text: str) -> Decimal | None:
    debit = _optional_amount(reader, f"{where}/debit", debit_text)
    credit = _optional_amount(reader, f"{where}/credit", credit_text)
    for name, value in (("debit", debit), ("credit", credit)):
        if value is not None and value < 0:
            reader.problems.add(f"{where}/{name}", "借贷发生额不能为负 / debit and credit are not negative")
            return None
    if bool(debit) == bool(credit):
        reader.problems.add(where, "借方、贷方须且只须填一项 / fill exactly one of debit and credit")
        return None
    return credit if credit else -(debit or Decimal(0))


def _optional_amount(reader: _Reader, where: str, text: str) -> Decimal | None:
    if not text:
        return None
    try:
        return values.amount(text)
    except Bad as exc:
        reader.problems.add(where, str(exc))
        return None


def _statement(reader: _Reader) -> Statement | None:
    meta = _Meta(reader)
    account = meta.text("account")
    currency = meta.read("currency", values.currency) if "currency" in reader.meta else DEFAULT_CURRENCY
    start, end = meta.period()
    opening = meta.read("opening_balance", values.amount)
    closing = meta.read("closing_balance", values.amount)
    if (
        account is None
        or currency is None
        or start is None
        or end is None
        or opening is None
        or closing is None
        or reader.problems.errors
    ):
        return None
    for line in reader.lines:
        if not start <= line.booked_on <= end:
            reader.problems.add(
                f"{line.source}/date", f"日期不在对账期间 {start}–{end} 内 / date outside the period"
            )
    return Statement(
        "csv", account.replace(" ", ""), currency, start, end, opening, closing, tuple(reader.lines),
        meta.text("account_name", required=False), meta.where("currency"),
    )  # fmt: skip


class _Meta:
    def __init__(self, reader: _Reader) -> None:
        self.reader, self.meta, self.problems = reader, reader.meta, reader.problems

    def where(self, key: str) -> str:
        return f"line {self.meta[key][0]}/{key}" if key in self.meta else key

    def text(self, key: str, *, required: bool = True) -> str | None:
        if key in self.meta:
            return self.meta[key][1]
        if required:
            self.problems.add(key, f"缺少 {key} 行 / missing the {key} row")
        return None

    def read(self, key: str, parse: Callable[[str], T]) -> T | None:
        raw = self.text(key)
        if raw is None:
            return None
        try:
            return parse(raw)
        except Bad as exc:
            self.problems.add(self.where(key), str(exc))
            return None

    def period(self) -> tuple[dt.date | None, dt.date | None]:
        if "period" in self.meta and not ("period_start" in self.meta or "period_end" in self.meta):
            return self._period_text()
        start, end = self.read("period_start", values.date), self.read("period_end", values.date)
        if start and end and start > end:
            self.problems.add(self.where("period_end"), "截止日期早于起始日期 / period ends before it starts")
        return start, end

    def _period_text(self) -> tuple[dt.date | None, dt.date | None]:
        """`2024-03` (a whole month) or `2024-03-01/2024-03-31`."""
        raw = self.meta["period"][1]
        try:
            if "/" in raw:
                first, _, last = raw.partition("/")
                return values.date(first), values.date(last)
            month = dt.datetime.strptime(raw.strip(), "%Y-%m").date()
        except (Bad, ValueError):
            self.problems.add(
                self.where("period"), f"期间应为 YYYY-MM 或 起/止 / period: YYYY-MM or start/end: {raw!r}"
            )
            return None, None
        following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return month, following - dt.timedelta(days=1)
