"""SQL expressions that write JSON text, for the bulk card queries (bulk_sql.py).

The bulk path must give byte for byte the canonical JSON of `digest.canonical` (json.dumps with sorted keys,
no spaces, non-ASCII as is). Every helper here yields a non-NULL VARCHAR expression: a JSON literal, `null`
for a NULL value. Only plain SQL (CASE, concat, REPLACE, CAST, CHR) is used, so the same text runs on DuckDB and,
translated, on Spark. Strings escape the backslash and the double quote; the other characters json.dumps
escapes (control characters below U+0020) are left raw here and repaired in Python (bulk.py), where they are
found by one scan: they do not occur in the bureaus' data as seen so far.
"""

from __future__ import annotations

from collections.abc import Mapping

_BACKSLASH, _QUOTE = "CHR(92)", "CHR(34)"


def text(expr: str) -> str:
    """A JSON string (or null) of a VARCHAR expression."""
    backslashes = f"REPLACE({expr}, {_BACKSLASH}, {_BACKSLASH} || {_BACKSLASH})"
    escaped = f"REPLACE({backslashes}, {_QUOTE}, {_BACKSLASH} || {_QUOTE})"
    return f"CASE WHEN {expr} IS NULL THEN 'null' ELSE concat({_QUOTE}, {escaped}, {_QUOTE}) END"


def quoted(expr: str) -> str:
    """A JSON string of a value whose text needs no escaping: a DECIMAL(…,2) amount (rules.money), a DATE
    (ISO, rules.day)."""
    return (
        f"CASE WHEN {expr} IS NULL THEN 'null' ELSE concat({_QUOTE}, CAST({expr} AS VARCHAR), {_QUOTE}) END"
    )


def month(expr: str) -> str:
    """A JSON string of a month column (`YYYY-MM`, checked at ingestion: nothing to escape)."""
    return quoted(expr)


def number(expr: str) -> str:
    """A JSON integer (or null)."""
    return f"COALESCE(CAST({expr} AS VARCHAR), 'null')"


def boolean(expr: str) -> str:
    return f"CASE WHEN {expr} THEN 'true' ELSE 'false' END"


def obj(fields: Mapping[str, str]) -> str:
    """A JSON object of {key: JSON expression}, keys in the order json.dumps(sort_keys=True) gives: one
    `concat` of all the pieces (a chain of `||` copied the growing text once per piece)."""
    parts: list[str] = []
    for i, key in enumerate(sorted(fields)):
        parts.append(f"'{',' if i else '{'}\"{key}\":'")
        parts.append(fields[key])
    parts.append("'}'")
    return "concat(" + ", ".join(parts) + ")"
