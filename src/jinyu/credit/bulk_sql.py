"""Every enterprise's card in one set-based statement (the batch snapshot path; bulk.py).

Each section is a `Part`: CTEs, a base relation (one row per enterprise whose section has data) and the JSON
text of each entry of its `data` (bulk_json.py). A list entry is one grouped CTE per list, its items' JSON
joined in order; the section's `data` is one concatenation of its entries in canonical key order, so no
per-entry rows are made and grouped again. `card_statement` joins the six sections to every enterprise that has
any fact and wraps each with its status and source (`source_coverage`), as the rules do: one row per
enterprise, one column of canonical JSON per section. The indicators are those of rules.py, written again in
SQL (docs/credit-card.md, "Indicators"): windows end at the section's own as-of date, lists are cut where the
rules cut them. `tests/credit/test_bulk.py` compares both paths on every enterprise of a synthetic region.
Growth ratios are left to bulk.py (exact Decimal division, as the rules do it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jinyu.credit.bulk_json import month, number, obj, quoted, text
from jinyu.credit.rules import HISTORY_MONTHS, RECENT_ITEMS, SECTIONS


@dataclass(frozen=True)
class Part:
    """One section's share of the card statement: `data` is `obj(fields)` over `base` LEFT JOIN `joins` (each
    a relation with one row per `uscc`); `extra` are further output columns (`expression AS name`)."""

    section: str
    ctes: list[str]
    base: str
    fields: dict[str, str]
    joins: tuple[str, ...] = ()
    extra: tuple[str, ...] = field(default=())


def covered(name: str, section: str) -> str:
    # `a`: the section's as-of date; the month windows as 'YYYY-MM' and the day windows as dates.
    return f"""{name} AS (
  SELECT uscc, as_of AS a, strftime(as_of, '%Y-%m') AS m,
    strftime(as_of - INTERVAL 11 MONTH, '%Y-%m') AS f12,
    strftime(as_of - INTERVAL 23 MONTH, '%Y-%m') AS f24,
    CAST(as_of - INTERVAL 12 MONTH AS DATE) AS d12,
    CAST(as_of - INTERVAL 36 MONTH AS DATE) AS d36
  FROM source_coverage WHERE source = '{section}' AND covered
)"""


def ordered_join(rank: str, value: str) -> str:
    """The group's `value`s joined with commas in `rank` order (DuckDB list functions; sqlglot writes them as
    Spark's ARRAY_JOIN(TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT …))))."""
    pairs = f"list_sort(list(struct_pack(k := {rank}, v := {value})))"
    return f"array_to_string(list_transform({pairs}, lambda pair: pair.v), ',')"


def list_cte(name: str, source: str, rank: str, item: str, where: str = "", more: str = "") -> str:
    """`name` (uscc, value[, more]): each enterprise's JSON array of `item`s in `rank` order; an enterprise
    without items has no row (`listed` reads it as `[]`)."""
    cond = f" WHERE {where}" if where else ""
    extra = f", {more}" if more else ""
    return (
        f"{name} AS (SELECT uscc, concat('[', {ordered_join(rank, item)}, ']') AS value{extra} "
        f"FROM {source}{cond} GROUP BY uscc)"
    )


def listed(name: str) -> str:
    return f"COALESCE({name}.value, '[]')"


def count_or_zero(column: str) -> str:
    # An enterprise without rows has no row in the count's CTE: its count is 0, not null.
    return number(f"COALESCE({column}, 0)")


def counts(name: str, source: str, conditions: dict[str, str]) -> str:
    """Per enterprise, the number of `source` rows meeting each condition (zero via COALESCE at the join)."""
    cols = ", ".join(f"COUNT(CASE WHEN {cond} THEN 1 END) AS {col}" for col, cond in conditions.items())
    return f"{name} AS (SELECT uscc, {cols} FROM {source} GROUP BY uscc)"


def tax() -> Part:
    ctes = [
        covered("tcov", "tax"),
        """t AS (
  SELECT tcov.uscc, x.period, x.tax_paid, x.sales_declared, x.period >= tcov.f12 AS in12,
    x.period >= tcov.f24 AND x.period < tcov.f12 AS inprev, x.period >= tcov.f24 AS shown
  FROM tcov JOIN tax_monthly AS x ON x.uscc = tcov.uscc AND x.period <= tcov.m
)""",
        """ts AS (
  SELECT tcov.uscc,
    CAST(COALESCE(SUM(CASE WHEN t.in12 THEN t.tax_paid END), 0) AS DECIMAL(38, 2)) AS paid12,
    CAST(COALESCE(SUM(CASE WHEN t.inprev THEN t.tax_paid END), 0) AS DECIMAL(38, 2)) AS paidprev,
    CAST(COALESCE(SUM(CASE WHEN t.in12 THEN t.sales_declared END), 0) AS DECIMAL(38, 2)) AS sales12,
    CAST(COALESCE(SUM(CASE WHEN t.inprev THEN t.sales_declared END), 0) AS DECIMAL(38, 2)) AS salesprev,
    COUNT(CASE WHEN t.in12 THEN 1 END) AS filed12,
    COUNT(CASE WHEN t.in12 AND t.sales_declared = 0 THEN 1 END) AS zero12
  FROM tcov LEFT JOIN t ON t.uscc = tcov.uscc GROUP BY tcov.uscc
)""",
        """tr AS (
  SELECT tcov.uscc, x.year, x.rating, x.rated_on
  FROM tcov JOIN tax_credit_ratings AS x ON x.uscc = tcov.uscc AND x.rated_on <= tcov.a
)""",
        list_cte("tax_months", "t", "period", obj({"period": month("period"), "tax_paid": quoted("tax_paid"),
                 "sales_declared": quoted("sales_declared")}), where="shown"),
        list_cte("tax_ratings", "tr", "-CAST(year AS BIGINT)", obj({"year": number("year"),
                 "rating": text("rating"), "rated_on": quoted("rated_on")}),
                 more="arg_max(rating, year) AS latest"),  # rating and year are required: no NULL to skip
    ]  # fmt: skip
    fields = {
        "tax_paid_12m": quoted("ts.paid12"),
        "tax_paid_prev_12m": quoted("ts.paidprev"),
        "sales_12m": quoted("ts.sales12"),
        "sales_prev_12m": quoted("ts.salesprev"),
        "months_filed_12m": number("ts.filed12"),
        "zero_sales_months_12m": number("ts.zero12"),
        "latest_rating": text("tax_ratings.latest"),
        "ratings": listed("tax_ratings"),
        "months": listed("tax_months"),
        "tax_paid_growth": "'null'",  # bulk.py fills both growths in
        "sales_growth": "'null'",
    }
    extra = ("ts.paid12", "ts.paidprev", "ts.sales12", "ts.salesprev")
    return Part("tax", ctes, "ts", fields, ("tax_months", "tax_ratings"), extra)


def headcount() -> Part:
    ctes = [
        covered("hcov", "headcount"),
        f"""h AS (
  SELECT hcov.uscc, x.period, CAST(x.social_insurance_count AS BIGINT) AS si,
    CAST(x.provident_fund_count AS BIGINT) AS pf,
    x.period >= strftime(hcov.a - INTERVAL {HISTORY_MONTHS - 1} MONTH, '%Y-%m') AS shown
  FROM hcov JOIN headcount_monthly AS x ON x.uscc = hcov.uscc AND x.period <= hcov.m
)""",
        "hm AS (SELECT uscc, MAX(period) AS latest FROM h GROUP BY uscc)",
        """hy AS (
  SELECT hm.uscc, cur.period, cur.si, cur.pf, b.si AS si_ago, b.pf AS pf_ago
  FROM hm JOIN h AS cur ON cur.uscc = hm.uscc AND cur.period = hm.latest
  LEFT JOIN h AS b ON b.uscc = hm.uscc
    AND b.period = strftime(CAST(hm.latest || '-01' AS DATE) - INTERVAL 12 MONTH, '%Y-%m')
)""",
        list_cte("headcount_months", "h", "period", obj({"period": month("period"),
                 "social_insurance": number("si"), "provident_fund": number("pf")}), where="shown"),
    ]  # fmt: skip
    fields = {
        "latest_period": month("hy.period"),
        "social_insurance_latest": number("hy.si"),
        "provident_fund_latest": number("hy.pf"),
        "social_insurance_12m_ago": number("hy.si_ago"),
        "social_insurance_change_12m": number("hy.si - hy.si_ago"),
        "provident_fund_change_12m": number("hy.pf - hy.pf_ago"),
        "months": listed("headcount_months"),
    }
    return Part("headcount", ctes, "hcov", fields, ("hy", "headcount_months"))


def ip() -> Part:
    granted = "x.granted_on IS NOT NULL AND x.granted_on <= icov.a"
    registered = "x.registered_on IS NOT NULL AND x.registered_on <= icov.a"
    ctes = [
        covered("icov", "ip"),
        f"""ipa AS (
  SELECT icov.uscc, x.kind, {granted} AS granted
  FROM icov JOIN patents AS x ON x.uscc = icov.uscc AND x.filed_on <= icov.a
)""",
        f"""itm AS (
  SELECT icov.uscc, {registered} AS granted
  FROM icov JOIN trademarks AS x ON x.uscc = icov.uscc AND x.applied_on <= icov.a
)""",
        """icp AS (
  SELECT icov.uscc, x.kind FROM icov JOIN copyrights AS x ON x.uscc = icov.uscc AND x.registered_on <= icov.a
)""",
        f"""ev AS (
  SELECT icov.uscc, x.granted_on AS d, 'patent:' || x.kind AS kind, x.title, x.patent_no AS no, icov.d12
  FROM icov JOIN patents AS x ON x.uscc = icov.uscc AND x.filed_on <= icov.a AND {granted}
  UNION ALL
  SELECT icov.uscc, x.registered_on, 'trademark', x.mark_name, x.reg_no, icov.d12
  FROM icov JOIN trademarks AS x ON x.uscc = icov.uscc AND x.applied_on <= icov.a AND {registered}
  UNION ALL
  SELECT icov.uscc, x.registered_on, 'copyright:' || x.kind, x.title, x.reg_no, icov.d12
  FROM icov JOIN copyrights AS x ON x.uscc = icov.uscc AND x.registered_on <= icov.a
)""",
        "evr AS (SELECT ev.*, ROW_NUMBER() OVER (PARTITION BY uscc ORDER BY d DESC, no DESC) AS k FROM ev)",
        counts("pc", "ipa", {f"{k}_{g}": f"kind = '{k}' AND {'' if g == 'granted' else 'NOT '}granted"
                             for k in ("invention", "utility_model", "design") for g in ("granted", "pending")}),
        counts("tc", "itm", {"registered": "granted", "pending": "NOT granted"}),
        counts("cc", "icp", {"software": "kind = 'software'", "work": "kind = 'work'"}),
        counts("gc", "ev", {"grants": "d > d12"}),
        list_cte("ip_recent", "evr", "k", obj({"on": quoted("d"), "kind": text("kind"), "title": text("title"),
                 "number": text("no")}), where=f"k <= {RECENT_ITEMS}"),
    ]  # fmt: skip
    kinds = ("invention", "utility_model", "design")
    fields = {
        "patents": obj(
            {
                k: obj(
                    {"granted": count_or_zero(f"pc.{k}_granted"), "pending": count_or_zero(f"pc.{k}_pending")}
                )
                for k in kinds
            }
        ),
        "trademarks": obj(
            {"registered": count_or_zero("tc.registered"), "pending": count_or_zero("tc.pending")}
        ),
        "copyrights": obj({"software": count_or_zero("cc.software"), "work": count_or_zero("cc.work")}),
        "grants_12m": count_or_zero("gc.grants"),
        "recent_grants": listed("ip_recent"),
    }
    return Part("ip", ctes, "icov", fields, ("pc", "tc", "cc", "gc", "ip_recent"))


def _data_cte(part: Part) -> str:
    joins = "".join(f"\n  LEFT JOIN {j} ON {j}.uscc = {part.base}.uscc" for j in part.joins)
    extra = "".join(f", {e}" for e in part.extra)
    return (
        f"{part.section}_data AS (\n  SELECT {part.base}.uscc, {obj(part.fields)} AS data{extra}\n"
        f"  FROM {part.base}{joins}\n)"
    )


def wrapped(section: str) -> str:
    """The section's canonical JSON: `ok` with its data when its source covers the enterprise and the section
    has data, else `no_data` (`data` null); the source's bureau and as-of date, both null without a coverage
    row (rules.build_card)."""
    c, d = f"c_{section}", f"d_{section}"
    ok = f"{c}.covered AND {d}.uscc IS NOT NULL"
    return (
        f"concat('{{\"data\":', CASE WHEN {ok} THEN {d}.data ELSE 'null' END, "
        f'\',"source":{{"as_of":\', {quoted(f"{c}.as_of")}, \',"bureau":\', {text(f"{c}.bureau")}, '
        f'CASE WHEN {ok} THEN \'}},"status":"ok"}}\' ELSE \'}},"status":"no_data"}}\' END)'
    )


def statement(parts: list[Part], datasets: tuple[str, ...]) -> str:
    assert [p.section for p in parts] == list(SECTIONS)
    every = "\n  UNION ".join(f"SELECT uscc FROM {d}" for d in datasets)
    ctes = [f"u AS (\n  {every}\n)"] + [c for p in parts for c in p.ctes] + [_data_cte(p) for p in parts]
    columns = [f"{wrapped(p.section)} AS {p.section}" for p in parts]
    extra = [f"d_{p.section}.{e.split('.')[-1]}" for p in parts for e in p.extra]
    joins = "".join(
        f"\nLEFT JOIN source_coverage AS c_{s} ON c_{s}.uscc = u.uscc AND c_{s}.source = '{s}'"
        f"\nLEFT JOIN {s}_data AS d_{s} ON d_{s}.uscc = u.uscc"
        for s in SECTIONS
    )
    select = ",\n  ".join(["u.uscc", *columns, *extra])
    return "WITH " + ",\n".join(ctes) + f"\nSELECT {select}\nFROM u{joins}\nORDER BY u.uscc\n"
