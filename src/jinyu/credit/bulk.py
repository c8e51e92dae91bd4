"""Every enterprise's card sections at once, as canonical JSON text (the batch snapshot path).

Seven named queries do the work set-based (bulk_sql.py, bulk_sql_records.py): one per section, plus the
coverage of every enterprise that has any fact. Python only puts each section's entries together in key order,
wraps them with status and source, and works out the two growth ratios with Decimal as the rules do. The text is
byte for byte `digest.canonical` of what `rules.build_card` gives (tests/credit/test_bulk.py checks every
enterprise of a synthetic region), so batch and single-card snapshots share content keys and versions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pyarrow.compute as pc

from jinyu.analytics import Engine
from jinyu.credit.digest import canonical
from jinyu.credit.queries import COVERAGE_QUERY, SECTION_QUERIES
from jinyu.credit.rules import SECTIONS, ratio

_CONTROL = r"[\x00-\x1f]"  # RE2 syntax (Arrow), the characters json.dumps escapes


def section_texts(engine: Engine) -> Iterator[tuple[str, dict[str, str]]]:
    """(uscc, {section: canonical JSON of {status, source, data}}) for every enterprise with any fact, in
    USCC order: the same enterprises, and the same bytes, as the per-card path."""
    data = {section: _data_texts(engine, section) for section in SECTIONS}
    coverage: dict[str, dict[str, Cover]] = {}
    table = engine.run(COVERAGE_QUERY.name)
    columns = [table.column(n).to_pylist() for n in ("uscc", "source", "covered", "as_of", "bureau")]
    for uscc, source, covered, as_of, bureau in zip(*columns, strict=True):
        sources = coverage.setdefault(uscc, {})
        if source is not None:
            sources[source] = (bool(covered), as_of, bureau)
    wrap = _Wrapper()
    for uscc, sources in coverage.items():
        yield uscc, {s: wrap(sources.get(s), data[s].get(uscc)) for s in SECTIONS}


Cover = tuple[bool, date | None, str | None]  # covered, as of, bureau (a source_coverage row)
_NO_SOURCE = '{"data":null,"source":{"as_of":null,"bureau":null},"status":"no_data"}'


class _Wrapper:
    """{status, source, data} around a section's data text; the source's JSON made once per distinct source
    (a handful of bureaus and dates), not per card."""

    def __init__(self) -> None:
        self._sources: dict[Cover, tuple[str, str]] = {}

    def __call__(self, cover: Cover | None, data: str | None) -> str:
        if cover is None:
            return _NO_SOURCE
        parts = self._sources.get(cover)
        if parts is None:
            _covered, as_of, bureau = cover
            source = (
                f'"source":{{"as_of":{_json(as_of.isoformat() if as_of else None)},"bureau":{_json(bureau)}}}'
            )
            parts = self._sources[cover] = (
                "," + source + ',"status":"ok"}',
                '{"data":null,' + source + ',"status":"no_data"}',
            )
        if not cover[0] or data is None:
            return parts[1]
        return '{"data":' + data + parts[0]


def _json(value: str | None) -> str:
    return json.dumps(value, ensure_ascii=False)


def _data_texts(engine: Engine, section: str) -> dict[str, str]:
    """uscc -> the JSON text of the section's `data`, for the enterprises its source covers."""
    table = engine.run(SECTION_QUERIES[section].name)
    texts = dict(zip(table.column("uscc").to_pylist(), table.column("data").to_pylist(), strict=True))
    if pc.any(pc.match_substring_regex(table.column("data"), _CONTROL)).as_py():
        # The SQL escapes quotes and backslashes only; a control character is re-encoded as json.dumps does
        # (one vectorised scan of the Arrow column finds none in the data seen so far; Python's `re` over the
        # joined text took a second per batch).
        texts = {u: canonical(json.loads(t, strict=False)).decode("utf-8") for u, t in texts.items()}
    if section == "tax":
        # The growth ratios: exact Decimal division as rules.ratio does it (the SQL leaves them null).
        sums = [table.column(n).to_pylist() for n in ("uscc", "paid12", "paidprev", "sales12", "salesprev")]
        for uscc, paid, paid_prev, sales, sales_prev in zip(*sums, strict=True):
            texts[uscc] = (
                texts[uscc]
                .replace('"tax_paid_growth":null', '"tax_paid_growth":' + _json(ratio(paid, paid_prev)), 1)
                .replace('"sales_growth":null', '"sales_growth":' + _json(ratio(sales, sales_prev)), 1)
            )
    return texts
