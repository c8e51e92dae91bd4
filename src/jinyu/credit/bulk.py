"""Every enterprise's card sections at once, as canonical JSON text (the batch snapshot path).

Seven named queries do the work set-based (bulk_sql.py, bulk_sql_records.py): one per section, plus the
coverage of every enterprise that has any fact. Python only puts each section's entries together in key order,
wraps them with status and source, and works out the two growth ratios with Decimal as the rules do. The text is
byte for byte `digest.canonical` of what `rules.build_card` gives (tests/credit/test_bulk.py checks every
enterprise of a synthetic region), so batch and single-card snapshots share content keys and versions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa

from jinyu.analytics import Engine, Query, register
from jinyu.credit import bulk_sql, bulk_sql_records
from jinyu.credit.digest import canonical
from jinyu.credit.queries import DATASETS, OPTIONAL_SCHEMAS
from jinyu.credit.rules import SECTIONS, ratio

# Per section: its statement and the keys of its `data` that are lists (the others hold one JSON value).
_SECTION_SQL = {
    "registration": (bulk_sql_records.registration(), ("changes", "shareholders")),
    "tax": (bulk_sql.tax(), ("months", "ratings")),
    "headcount": (bulk_sql.headcount(), ("months",)),
    "ip": (bulk_sql.ip(), ("recent_grants",)),
    "judicial": (bulk_sql_records.judicial(), ("cases", "dishonest_listings", "flags")),
    "penalties": (bulk_sql_records.penalties(), ("flags", "items")),
}
_GROWTH = {
    "tax_paid_growth": ("tax_paid_12m", "tax_paid_prev_12m"),
    "sales_growth": ("sales_12m", "sales_prev_12m"),
}


def _optional(sql: str) -> dict[str, pa.Schema]:
    return {name: schema for name, schema in OPTIONAL_SCHEMAS.items() if re.search(rf"\b{name}\b", sql)}


def _ordered(sql: str) -> str:
    return sql + "ORDER BY uscc, key, ord\n"


SECTION_QUERIES = {
    section: register(
        Query(
            name=f"credit_section_{section}_all",
            sql=_ordered(sql),
            params={},
            description=f"名片板块 {section}（全部企业，JSON 片段）/ the {section} section of every card, "
            "as JSON entries (batch snapshots)",
            optional=_optional(sql),
        )
    )
    for section, (sql, _lists) in _SECTION_SQL.items()
}
_EVERY_USCC = "\n  UNION ".join(f"SELECT uscc FROM {dataset}" for dataset in DATASETS)
_COVERAGE_SQL = f"""WITH u AS (
  {_EVERY_USCC}
)
SELECT u.uscc, c.source, c.covered, c.as_of, c.bureau
FROM u LEFT JOIN source_coverage AS c ON c.uscc = u.uscc
ORDER BY u.uscc, c.source
"""
COVERAGE_QUERY = register(
    Query(
        name="credit_card_coverage_all",
        sql=_COVERAGE_SQL,
        params={},
        description="每家有数据的企业及各来源的覆盖 / every enterprise with any fact, with its sources' coverage",
        optional=OPTIONAL_SCHEMAS,
    )
)
_CONTROL = re.compile(r"[\x00-\x1f]")


def section_texts(engine: Engine) -> Iterator[tuple[str, dict[str, str]]]:
    """(uscc, {section: canonical JSON of {status, source, data}}) for every enterprise with any fact, in
    USCC order: the same enterprises, and the same bytes, as the per-card path."""
    data = {section: _data_texts(engine, section) for section in SECTIONS}
    coverage: dict[str, dict[str, tuple[bool, date | None, str | None]]] = {}
    table = engine.run(COVERAGE_QUERY.name)
    columns = [table.column(n).to_pylist() for n in ("uscc", "source", "covered", "as_of", "bureau")]
    for uscc, source, covered, as_of, bureau in zip(*columns, strict=True):
        sources = coverage.setdefault(uscc, {})
        if source is not None:
            sources[source] = (bool(covered), as_of, bureau)
    for uscc, sources in coverage.items():
        yield uscc, {s: _section(sources.get(s), data[s].get(uscc)) for s in SECTIONS}


def _section(cover: tuple[bool, date | None, str | None] | None, data: str | None) -> str:
    if cover is None:
        return '{"data":null,"source":{"as_of":null,"bureau":null},"status":"no_data"}'
    covered, as_of, bureau = cover
    source = '{"as_of":' + _json(as_of.isoformat() if as_of else None) + ',"bureau":' + _json(bureau) + "}"
    if not covered or data is None:
        return '{"data":null,"source":' + source + ',"status":"no_data"}'
    text = '{"data":' + data + ',"source":' + source + ',"status":"ok"}'
    if _CONTROL.search(text):
        # The SQL escapes quotes and backslashes only; a control character is re-encoded here as json.dumps does.
        text = canonical(json.loads(text, strict=False)).decode("utf-8")
    return text


def _json(value: str | None) -> str:
    return json.dumps(value, ensure_ascii=False)


def _data_texts(engine: Engine, section: str) -> dict[str, str]:
    """uscc -> the JSON text of the section's `data`, for the enterprises its source covers."""
    lists = _SECTION_SQL[section][1]
    table = engine.run(SECTION_QUERIES[section].name)
    out: dict[str, str] = {}
    entries: dict[str, Any] = {}
    current: str | None = None
    columns = [table.column(n).to_pylist() for n in ("uscc", "key", "ord", "value")]
    for uscc, key, ord_, value in zip(*columns, strict=True):
        if uscc != current:
            if current is not None:
                out[current] = _object(section, entries, lists)
            current, entries = uscc, {}
        if ord_ == 0:
            entries[key] = value
        else:
            entries.setdefault(key, []).append(value)
    if current is not None:
        out[current] = _object(section, entries, lists)
    return out


def _object(section: str, entries: dict[str, Any], lists: tuple[str, ...]) -> str:
    for key in lists:
        entries[key] = "[" + ",".join(entries.get(key, ())) + "]"
    if section == "tax":
        for key, (now, before) in _GROWTH.items():
            entries[key] = _json(
                ratio(Decimal(json.loads(entries[now])), Decimal(json.loads(entries[before])))
            )
    return "{" + ",".join(f'"{key}":{entries[key]}' for key in sorted(entries)) + "}"
