"""The card's sections for every enterprise at once, as set-based SQL (the batch snapshot path; bulk.py).

Each section's statement yields rows `(uscc, key, ord, value)` for the enterprises its source covers: `key`
names an entry of the section's `data`, `value` is that entry's JSON text (bulk_json.py) — one row with
`ord` 0 for a plain value, one row per list item (`ord` 1, 2, … in the list's order) for a list. bulk.py puts
them together into the section's canonical JSON. The indicators are those of rules.py, written again in SQL
(docs/credit-card.md, "Indicators"): windows end at the section's own as-of date, lists are cut where the rules
cut them. `tests/credit/test_bulk.py` compares both paths on every enterprise of a synthetic region. Growth
ratios are left to bulk.py (exact Decimal division, as the rules do it).
"""

from __future__ import annotations

from jinyu.credit.bulk_json import number, obj, quoted, text
from jinyu.credit.rules import HISTORY_MONTHS, RECENT_ITEMS


def covered(section: str) -> str:
    # `a`: the section's as-of date; the month windows as 'YYYY-MM' and the day windows as dates.
    return f"""cov AS (
  SELECT uscc, as_of AS a, strftime(as_of, '%Y-%m') AS m,
    strftime(as_of - INTERVAL 11 MONTH, '%Y-%m') AS f12,
    strftime(as_of - INTERVAL 23 MONTH, '%Y-%m') AS f24,
    CAST(as_of - INTERVAL 12 MONTH AS DATE) AS d12,
    CAST(as_of - INTERVAL 36 MONTH AS DATE) AS d36
  FROM source_coverage WHERE source = '{section}' AND covered
)"""


def value_row(source: str, key: str, expr: str) -> str:
    return f"SELECT uscc, '{key}' AS key, CAST(0 AS BIGINT) AS ord, {expr} AS value FROM {source}"


def item_rows(source: str, key: str, rank: str, expr: str, where: str = "") -> str:
    cond = f" WHERE {where}" if where else ""
    return f"SELECT uscc, '{key}' AS key, CAST({rank} AS BIGINT) AS ord, {expr} AS value FROM {source}{cond}"


def ordered_join(rank: str, value: str) -> str:
    """The group's `value`s joined with commas in `rank` order (DuckDB list functions; sqlglot writes them as
    Spark's ARRAY_JOIN(TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT …))))."""
    pairs = f"list_sort(list(struct_pack(k := {rank}, v := {value})))"
    return f"array_to_string(list_transform({pairs}, lambda item: item.v), ',')"


def statement(
    ctes: list[str], selects: list[str], lists: tuple[str, ...], base: str, tail: str = "\nFROM cards"
) -> str:
    """The section's statement: one row per enterprise of `base`, `data` its section's JSON object text.

    `selects` yield (uscc, key, ord, value) rows; the keys in `lists` are lists (items ord 1, 2, …; every
    enterprise of `base` gets an empty marker row with ord 0, so that a list without items reads `[]`)."""
    names = ", ".join(f"'{key}'" for key in lists)
    markers = [
        f"SELECT uscc, '{key}' AS key, CAST(0 AS BIGINT) AS ord, '' AS value FROM {base}" for key in lists
    ]
    rows = "\nUNION ALL\n".join(selects + markers)
    pair = "CHR(34) || key || CHR(34) || ':' || value"
    return (
        "WITH "
        + ",\n".join(ctes)
        + f""",
entry_rows AS (
{rows}
),
entries AS (
  SELECT uscc, key, value FROM entry_rows WHERE key NOT IN ({names})
  UNION ALL
  SELECT uscc, key, '[' || SUBSTR({ordered_join("ord", "value")}, 2) || ']' AS value
  FROM entry_rows WHERE key IN ({names}) GROUP BY uscc, key
),
cards AS (
  SELECT uscc, '{{' || {ordered_join("key", pair)} || '}}' AS data FROM entries GROUP BY uscc
)
SELECT cards.uscc, cards.data{tail}
ORDER BY cards.uscc
"""
    )


def tax() -> str:
    ctes = [
        covered("tax"),
        """t AS (
  SELECT cov.uscc, x.period, x.tax_paid, x.sales_declared, x.period >= cov.f12 AS in12,
    x.period >= cov.f24 AND x.period < cov.f12 AS inprev, x.period >= cov.f24 AS shown
  FROM cov JOIN tax_monthly AS x ON x.uscc = cov.uscc AND x.period <= cov.m
)""",
        """s AS (
  SELECT cov.uscc,
    CAST(COALESCE(SUM(CASE WHEN t.in12 THEN t.tax_paid END), 0) AS DECIMAL(38, 2)) AS paid12,
    CAST(COALESCE(SUM(CASE WHEN t.inprev THEN t.tax_paid END), 0) AS DECIMAL(38, 2)) AS paidprev,
    CAST(COALESCE(SUM(CASE WHEN t.in12 THEN t.sales_declared END), 0) AS DECIMAL(38, 2)) AS sales12,
    CAST(COALESCE(SUM(CASE WHEN t.inprev THEN t.sales_declared END), 0) AS DECIMAL(38, 2)) AS salesprev,
    COUNT(CASE WHEN t.in12 THEN 1 END) AS filed12,
    COUNT(CASE WHEN t.in12 AND t.sales_declared = 0 THEN 1 END) AS zero12
  FROM cov LEFT JOIN t ON t.uscc = cov.uscc GROUP BY cov.uscc
)""",
        """r AS (
  SELECT cov.uscc, x.year, x.rating, x.rated_on,
    ROW_NUMBER() OVER (PARTITION BY cov.uscc ORDER BY x.year DESC) AS k
  FROM cov JOIN tax_credit_ratings AS x ON x.uscc = cov.uscc AND x.rated_on <= cov.a
)""",
        "latest AS (SELECT cov.uscc, r.rating FROM cov LEFT JOIN r ON r.uscc = cov.uscc AND r.k = 1)",
    ]
    selects = [
        value_row("s", "tax_paid_12m", quoted("paid12")),
        value_row("s", "tax_paid_prev_12m", quoted("paidprev")),
        value_row("s", "sales_12m", quoted("sales12")),
        value_row("s", "sales_prev_12m", quoted("salesprev")),
        value_row("s", "months_filed_12m", number("filed12")),
        value_row("s", "zero_sales_months_12m", number("zero12")),
        value_row("latest", "latest_rating", text("rating")),
        item_rows("r", "ratings", "k", obj({"year": number("year"), "rating": text("rating"),
                                         "rated_on": quoted("rated_on")})),
        item_rows(
            "t", "months", "ROW_NUMBER() OVER (PARTITION BY uscc ORDER BY period)",
            obj({"period": text("period"), "tax_paid": quoted("tax_paid"),
                 "sales_declared": quoted("sales_declared")}),
            where="shown",
        ),
    ]  # fmt: skip
    growth = [value_row("s", key, "'null'") for key in ("tax_paid_growth", "sales_growth")]  # bulk.py fills
    sums = ", s.paid12, s.paidprev, s.sales12, s.salesprev\nFROM cards JOIN s ON s.uscc = cards.uscc"
    return statement(ctes, selects + growth, ("months", "ratings"), "cov", sums)


def headcount() -> str:
    ctes = [
        covered("headcount"),
        f"""h AS (
  SELECT cov.uscc, x.period, CAST(x.social_insurance_count AS BIGINT) AS si,
    CAST(x.provident_fund_count AS BIGINT) AS pf,
    x.period >= strftime(cov.a - INTERVAL {HISTORY_MONTHS - 1} MONTH, '%Y-%m') AS shown,
    ROW_NUMBER() OVER (PARTITION BY cov.uscc ORDER BY x.period DESC) AS back
  FROM cov JOIN headcount_monthly AS x ON x.uscc = cov.uscc AND x.period <= cov.m
)""",
        """l AS (
  SELECT cov.uscc, h.period, h.si, h.pf,
    strftime(CAST(h.period || '-01' AS DATE) - INTERVAL 12 MONTH, '%Y-%m') AS ago
  FROM cov LEFT JOIN h ON h.uscc = cov.uscc AND h.back = 1
)""",
        """y AS (
  SELECT l.uscc, l.period, l.si, l.pf, b.si AS si_ago, b.pf AS pf_ago
  FROM l LEFT JOIN h AS b ON b.uscc = l.uscc AND b.period = l.ago
)""",
    ]
    selects = [
        value_row("y", "latest_period", text("period")),
        value_row("y", "social_insurance_latest", number("si")),
        value_row("y", "provident_fund_latest", number("pf")),
        value_row("y", "social_insurance_12m_ago", number("si_ago")),
        value_row("y", "social_insurance_change_12m", number("si - si_ago")),
        value_row("y", "provident_fund_change_12m", number("pf - pf_ago")),
        item_rows(
            "h", "months", "ROW_NUMBER() OVER (PARTITION BY uscc ORDER BY period)",
            obj({"period": text("period"), "social_insurance": number("si"), "provident_fund": number("pf")}),
            where="shown",
        ),
    ]  # fmt: skip
    return statement(ctes, selects, ("months",), "cov")


def ip() -> str:
    granted = "x.granted_on IS NOT NULL AND x.granted_on <= cov.a"
    registered = "x.registered_on IS NOT NULL AND x.registered_on <= cov.a"
    ctes = [
        covered("ip"),
        f"""p AS (
  SELECT cov.uscc, x.kind, {granted} AS granted
  FROM cov JOIN patents AS x ON x.uscc = cov.uscc AND x.filed_on <= cov.a
)""",
        f"""tm AS (
  SELECT cov.uscc, {registered} AS granted
  FROM cov JOIN trademarks AS x ON x.uscc = cov.uscc AND x.applied_on <= cov.a
)""",
        """c AS (
  SELECT cov.uscc, x.kind FROM cov JOIN copyrights AS x ON x.uscc = cov.uscc AND x.registered_on <= cov.a
)""",
        f"""ev AS (
  SELECT cov.uscc, x.granted_on AS d, 'patent:' || x.kind AS kind, x.title, x.patent_no AS no, cov.d12
  FROM cov JOIN patents AS x ON x.uscc = cov.uscc AND x.filed_on <= cov.a AND {granted}
  UNION ALL
  SELECT cov.uscc, x.registered_on, 'trademark', x.mark_name, x.reg_no, cov.d12
  FROM cov JOIN trademarks AS x ON x.uscc = cov.uscc AND x.applied_on <= cov.a AND {registered}
  UNION ALL
  SELECT cov.uscc, x.registered_on, 'copyright:' || x.kind, x.title, x.reg_no, cov.d12
  FROM cov JOIN copyrights AS x ON x.uscc = cov.uscc AND x.registered_on <= cov.a
)""",
        "evr AS (SELECT ev.*, ROW_NUMBER() OVER (PARTITION BY uscc ORDER BY d DESC, no DESC) AS k FROM ev)",
        _counts("pc", "p", {f"{k}_{g}": f"kind = '{k}' AND {'' if g == 'granted' else 'NOT '}granted"
                            for k in ("invention", "utility_model", "design") for g in ("granted", "pending")}),
        _counts("tc", "tm", {"registered": "granted", "pending": "NOT granted"}),
        _counts("cc", "c", {"software": "kind = 'software'", "work": "kind = 'work'"}),
        _counts("gc", "ev", {"grants": "d > d12"}),
    ]  # fmt: skip
    kinds = ("invention", "utility_model", "design")
    patents = obj(
        {
            k: obj({"granted": count_or_zero(f"pc.{k}_granted"), "pending": count_or_zero(f"pc.{k}_pending")})
            for k in kinds
        }
    )
    joined = (
        "cov LEFT JOIN pc ON pc.uscc = cov.uscc LEFT JOIN tc ON tc.uscc = cov.uscc "
        "LEFT JOIN cc ON cc.uscc = cov.uscc LEFT JOIN gc ON gc.uscc = cov.uscc"
    )
    selects = [
        f"SELECT cov.uscc, 'patents' AS key, CAST(0 AS BIGINT) AS ord, {patents} AS value FROM {joined}",
        f"SELECT cov.uscc, 'trademarks', CAST(0 AS BIGINT), "
        f"{obj({'registered': count_or_zero('tc.registered'), 'pending': count_or_zero('tc.pending')})} FROM {joined}",
        f"SELECT cov.uscc, 'copyrights', CAST(0 AS BIGINT), "
        f"{obj({'software': count_or_zero('cc.software'), 'work': count_or_zero('cc.work')})} FROM {joined}",
        f"SELECT cov.uscc, 'grants_12m', CAST(0 AS BIGINT), {count_or_zero('gc.grants')} FROM {joined}",
        item_rows("evr", "recent_grants", "k", obj({"on": quoted("d"), "kind": text("kind"), "title": text("title"),
                                                 "number": text("no")}), where=f"k <= {RECENT_ITEMS}"),
    ]  # fmt: skip
    return statement(ctes, selects, ("recent_grants",), "cov")


def _counts(name: str, source: str, conditions: dict[str, str]) -> str:
    """Per enterprise, the number of `source` rows meeting each condition (zero via COALESCE at the join)."""
    cols = ", ".join(f"COUNT(CASE WHEN {cond} THEN 1 END) AS {col}" for col, cond in conditions.items())
    return f"{name} AS (SELECT uscc, {cols} FROM {source} GROUP BY uscc)"


def count_or_zero(column: str) -> str:
    # An enterprise without rows has no row in the count's CTE: its count is 0, not null.
    return number(f"COALESCE({column}, 0)")
