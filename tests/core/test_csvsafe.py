"""The shared CSV writer: formula-leading cells (OWASP CSV injection) are written as text."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from jinyu.core.csvsafe import SafeWriter, neutralise


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+86 138", "'+86 138"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("重庆=公司", "重庆=公司"),
        ("-12.50", "-12.50"),
        ("-3", "-3"),
        (Decimal("-12.50"), "-12.50"),
        (-7, "-7"),
        (None, ""),
        (True, "true"),
    ],
)
def test_neutralise(value: object, written: str) -> None:
    assert neutralise(value) == written


def test_writer_neutralises_every_cell_and_reads_back() -> None:
    buf = io.StringIO()
    SafeWriter(buf).dict_rows(["name", "amount"], [{"name": "=1+1", "amount": Decimal("5.00")}])
    assert list(csv.reader(io.StringIO(buf.getvalue()))) == [["name", "amount"], ["'=1+1", "5.00"]]
