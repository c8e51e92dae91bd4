"""Reading a presented statement: CSV in the documented layout or ISO 20022 camt.053 XML.

`parse(data, fmt)` picks the format (`csv`, `camt053`, or None to detect it: a file whose first non-blank
character is `<` is XML) and returns a `Statement`, or raises `StatementMalformed` whose field errors name
each bad line (`line 14/amount`) or element (`Stmt/Ntry[3]/Amt/@Ccy`).
"""

from __future__ import annotations

from enum import StrEnum

from jinyu.risk.statements.errors import StatementTooLarge
from jinyu.risk.statements.parsing.camt053 import parse_camt053
from jinyu.risk.statements.parsing.csv_layout import parse_csv
from jinyu.risk.statements.parsing.values import Problems
from jinyu.risk.statements.rules import Statement

MAX_BYTES = 32 * 1024 * 1024  # about 250,000 CSV lines; larger statements are split by period


class StatementFormat(StrEnum):
    CSV = "csv"
    CAMT053 = "camt053"


def detect(data: bytes) -> StatementFormat:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return StatementFormat.CAMT053 if head.startswith(b"<") else StatementFormat.CSV


def parse(data: bytes, fmt: StatementFormat | None = None) -> Statement:
    if len(data) > MAX_BYTES:
        raise StatementTooLarge(detail=f"> {MAX_BYTES // (1024 * 1024)} MiB")
    if not data.strip():
        problems = Problems()
        problems.add("file", "文件为空 / the file is empty")
        problems.raise_if_any()
    kind = fmt or detect(data)
    return parse_camt053(data) if kind == StatementFormat.CAMT053 else parse_csv(data)


__all__ = ["MAX_BYTES", "StatementFormat", "detect", "parse"]
