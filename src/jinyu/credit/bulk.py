"""Every enterprise's card sections at once, as canonical JSON text (the batch snapshot path).

One named query does the work set-based (`credit_card_sections_all`, bulk_sql.py and bulk_sql_records.py):
one row per enterprise that has any fact, one column per section holding its {data, source, status} as
canonical JSON. Python only works out the tax section's two growth ratios with Decimal as the rules do, and
re-encodes a section in the rare case a control character made it into a string. The text is byte for byte
`digest.canonical` of what `rules.build_card` gives (tests/credit/test_bulk.py checks every enterprise of a
synthetic region), so batch and single-card snapshots share content keys and versions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from jinyu.analytics import Engine
from jinyu.credit.digest import canonical
from jinyu.credit.queries import CARD_SECTIONS_ALL
from jinyu.credit.rules import SECTIONS, ratio

_CONTROL = r"[\x00-\x1f]"  # RE2 syntax (Arrow), the characters json.dumps escapes
_GROWTH = ("paid12", "paidprev", "sales12", "salesprev")


def section_texts(engine: Engine) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(uscc, the canonical JSON of each section in SECTIONS order) for every enterprise with any fact, in
    USCC order: the same enterprises, and the same bytes, as the per-card path."""
    table = engine.run(CARD_SECTIONS_ALL.name)
    columns = [_texts(table.column(s)) for s in SECTIONS]
    columns[SECTIONS.index("tax")] = _with_growth(columns[SECTIONS.index("tax")], table)
    yield from zip(table.column("uscc").to_pylist(), zip(*columns, strict=True), strict=True)


def _texts(column: pa.ChunkedArray) -> list[str]:
    texts: list[str] = column.to_pylist()
    if pc.any(pc.match_substring_regex(column, _CONTROL)).as_py():
        # The SQL escapes quotes and backslashes only; a control character is re-encoded as json.dumps does
        # (one vectorised scan of the Arrow column finds none in the data seen so far).
        texts = [canonical(json.loads(t, strict=False)).decode("utf-8") for t in texts]
    return texts


def _with_growth(texts: list[str], table: pa.Table) -> list[str]:
    """The growth ratios: exact Decimal division as rules.ratio does it (the SQL leaves them null). The
    sums are null where the tax section has no data."""
    sums = [table.column(n).to_pylist() for n in _GROWTH]
    out = []
    for text, paid, paid_prev, sales, sales_prev in zip(texts, *sums, strict=True):
        if paid is not None:
            text = text.replace(
                '"tax_paid_growth":null', '"tax_paid_growth":' + _json(ratio(paid, paid_prev)), 1
            ).replace('"sales_growth":null', '"sales_growth":' + _json(ratio(sales, sales_prev)), 1)
        out.append(text)
    return out


def _json(value: str | None) -> str:
    return json.dumps(value, ensure_ascii=False)
