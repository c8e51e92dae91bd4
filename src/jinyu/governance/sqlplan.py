"""Compile a dataset's rules into ONE SELECT: a single scan computes every rule's failures at once.

The statement groups the dataset by period (the lake's `month` partition, when the dataset has one) and
provider (the contract's owner column, when it has one) and aggregates, per group:
- `n_rows`: records checked;
- `r<i>`: records failing row-level rule i — `COUNT(*) FILTER (WHERE <failure>)` (measured ~40 % faster on
  DuckDB than the equivalent `SUM(CASE WHEN ... THEN 1 ELSE 0 END)`; Spark 3 has the same syntax);
- `n_anomalous`: records failing at least one row-level rule (the OR of all failures);
- `f<i>`: the latest value of a freshness rule's column; `d<i>_null`, `d<i>_n`, `d<i>_sum`: a drift rule's
  null count, non-null count and sum (exact; the mean is computed from them outside SQL).
Uniqueness, references and check digits become LEFT JOINs to small derived tables: the duplicated keys; for a
reference on text, the dataset's distinct values that the target lacks (found once per distinct value, so the
per-row join probes a table of the few unknown values instead of every registered one — see `_reference`); for
a check digit, the distinct values whose check character is wrong (the check judged once per value). A
reference between two columns that both carry hashed keys in the lake (`<column>__key`,
`jinyu.analytics.keys`) is checked on the 64-bit keys instead of the text (`keyed`): every record joined to
the target's distinct keys, with no distinct step over the records. Spark receives the same text through the
sqlglot translation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from jinyu.analytics import FILE_COLUMN
from jinyu.analytics.keys import key_column
from jinyu.governance.checkdigits import failure_sql as check_digit_failure
from jinyu.governance.contracts import CONTRACTS, Contract, Kind
from jinyu.governance.expressions import qualified_condition
from jinyu.governance.rules import AS_OF, Rule, RuleKind

T = "t"  # the checked dataset's alias
PERIOD = "month"  # the lake's partition column


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def col(name: str, alias: str = T) -> str:
    return f"{alias}.{ident(name)}"


@dataclass(frozen=True)
class CheckPlan:
    dataset: str
    sql: str
    params: dict[str, type]
    row_rules: tuple[Rule, ...]  # r0, r1, ... in this order
    freshness: tuple[Rule, ...]  # f0, f1, ...
    drift: tuple[Rule, ...]  # d0, d1, ...
    skipped: dict[str, str] = field(default_factory=dict)  # rule code -> why (a target not loaded yet)
    by_period: bool = False
    by_provider: bool = False
    # Datasets whose content one record's verdict depends on besides the record itself: a reference's
    # target, the dataset itself for uniqueness (incremental checks re-scan a file when one of them changes).
    depends_on: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        digest = hashlib.sha256(self.sql.encode()).hexdigest()[:12]
        return f"governance_check_{self.dataset}_{digest}"


@dataclass
class _Builder:
    contract: Contract
    source: str  # the relation whose records are checked: the dataset, or some of its files
    joins: list[str] = field(default_factory=list)
    params: dict[str, type] = field(default_factory=dict)
    keyed: frozenset[str] = frozenset()  # "dataset.column" whose lake files carry `<column>__key`

    def failure(self, rule: Rule, i: int) -> str:
        """The SQL condition, never NULL, under which a record fails `rule`."""
        c = col(rule.column) if rule.column else ""
        kind = rule.kind
        if kind == RuleKind.NOT_NULL:
            blank = (
                f" OR TRIM({c}) = ''" if self.contract.column(rule.column or "").kind == Kind.STRING else ""
            )
            return f"({c} IS NULL{blank})"
        if kind == RuleKind.PATTERN:
            return f"({c} IS NOT NULL AND NOT REGEXP_MATCHES({c}, {literal('^(?:' + (rule.pattern or '') + ')$')}))"
        if kind == RuleKind.IN_SET:
            values = ", ".join(literal(v) for v in allowed_values(rule))
            return f"({c} IS NOT NULL AND {c} NOT IN ({values}))"
        if kind == RuleKind.RANGE:
            return self._range(rule, c)
        if kind == RuleKind.EXPRESSION:
            return f"(NOT COALESCE({qualified_condition(rule.condition or '', self.contract, T)}, TRUE))"
        if kind == RuleKind.CHECK_DIGIT:
            return self._check_digit(rule, i, c)
        if kind == RuleKind.UNIQUE:
            return self._unique(rule, i)
        if kind == RuleKind.WITHIN_FILING_PERIOD:
            return self._within_filing_period(rule, i, c)
        return self._reference(rule, i, c)

    def _range(self, rule: Rule, c: str) -> str:
        # The column is compared as it is stored (no per-row cast): the bound takes the column's type. A
        # timestamp's day is its UTC day, so `max` = day D means "before D + 1 day, 00:00 UTC".
        kind = self.contract.column(rule.column or "").kind
        parts = []
        for op, bound in (("<", rule.min), (">", rule.max)):
            if bound is None:
                continue
            if kind in (Kind.INT, Kind.DECIMAL):
                parts.append(f"{c} {op} {_number(bound, kind)}")
                continue
            if bound == AS_OF:
                self.params[AS_OF] = dt.date
                day = f"CAST(${AS_OF} AS DATE)"
            else:
                day = f"CAST({literal(bound)} AS DATE)"
            if kind == Kind.DATE:
                parts.append(f"{c} {op} {day}")
            elif op == "<":
                parts.append(f"{c} < CAST({day} AS TIMESTAMPTZ)")
            else:
                parts.append(f"{c} >= CAST({day} AS TIMESTAMPTZ) + INTERVAL 1 DAY")
        return "(COALESCE(" + " OR ".join(parts) + ", FALSE))"

    def _unique(self, rule: Rule, i: int) -> str:
        alias = f"u{i}"
        keys = [f"{ident(c)} AS k{j}" for j, c in enumerate(rule.columns)]
        groups = ", ".join(ident(c) for c in rule.columns)
        on = " AND ".join(f"{col(c)} = {alias}.k{j}" for j, c in enumerate(rule.columns))
        self.joins.append(
            f"LEFT JOIN (SELECT {', '.join(keys)} FROM {ident(self.contract.name)} GROUP BY {groups} "
            f"HAVING COUNT(*) > 1) AS {alias} ON {on}"
        )
        return f"({alias}.k0 IS NOT NULL)"

    def _within_filing_period(self, rule: Rule, i: int, c: str) -> str:
        # Quarterly filers (small-scale VAT taxpayers) report 0 in a quarter's first two months and the whole
        # quarter's tax in its last month: that record is bounded by the quarter's total, every other record
        # by its own month's. A filer is quarterly in a quarter when none of its records in the quarter's
        # first two months has a non-zero `column`. One derived row per filer and quarter keeps counts exact.
        alias = f"q{i}"
        month = ident(self.contract.partition_by or "")
        keys = [f"{ident(k)} AS k{j}" for j, k in enumerate(rule.columns)]
        groups = ", ".join([*(ident(k) for k in rule.columns), _quarter(month)])
        own = ident(rule.column or "")
        self.joins.append(
            f"LEFT JOIN (SELECT {', '.join(keys)}, {_quarter(month)} AS qk, SUM({ident(rule.total_of or '')}) "
            f"AS total, COUNT(*) FILTER (WHERE {own} <> 0 AND NOT {_quarter_end(month)}) AS early "
            f"FROM {ident(self.contract.name)} GROUP BY {groups}) AS {alias} ON "
            + " AND ".join(
                [*(f"{col(k)} = {alias}.k{j}" for j, k in enumerate(rule.columns)),
                 f"{_quarter(col(self.contract.partition_by or ''))} = {alias}.qk"]
            )
        )  # fmt: skip
        quarterly = f"{_quarter_end(col(self.contract.partition_by or ''))} AND {alias}.early = 0"
        bound = f"CASE WHEN {quarterly} THEN {alias}.total ELSE {col(rule.total_of or '')} END"
        return f"(COALESCE({c} > {bound}, FALSE))"

    def _check_digit(self, rule: Rule, i: int, c: str) -> str:
        # Judged once per distinct value, not per record: the check is ~20 string functions per value and
        # identifiers repeat (a borrower's USCC in every loan). The invalid distinct values are joined back;
        # each appears once, so counts stay exact. `MIN(v) ... GROUP BY v` rather than `DISTINCT v`: DuckDB
        # pushes a filter on a group key below the aggregate (back to every record), not one on an aggregate.
        alias = f"c{i}"
        own = ident(rule.column or "")
        invalid = check_digit_failure(rule.scheme or "", "d.v")
        self.joins.append(
            f"LEFT JOIN (SELECT d.v AS k FROM (SELECT MIN({own}) AS v FROM {ident(self.source)} "
            f"WHERE {own} IS NOT NULL GROUP BY {own}) AS d WHERE {invalid}) AS {alias} ON {c} = {alias}.k"
        )
        return f"({alias}.k IS NOT NULL)"

    def _reference(self, rule: Rule, i: int, c: str) -> str:
        # Text values: the unknown values first, the dataset's distinct non-null values with no match in the
        # target. Each appears once, so the LEFT JOIN below adds at most one match per record and the counts
        # stay exact; a record fails exactly when its (non-null) value is one of them (hashing every record's
        # text twice, into a distinct and into a probe of all registered values, cost more).
        # Hashed keys (`jinyu.analytics.keys`): every record is joined to all the target's distinct keys, and
        # fails when its (non-null) key finds none (`registered`). On lakes ingestion writes (dictionary-
        # encoded key column) that one probe of 64-bit integers costs less CPU than the distinct step it
        # replaces (docs/governance.md, Performance); the distinct target keeps it at one match per record.
        alias = f"j{i}"
        if self.hashed(rule):
            own = col(key_column(rule.column or ""))
            self.joins.append(f"LEFT JOIN ({self.registered(rule)}) AS {alias} ON {own} = {alias}.k")
            return f"({own} IS NOT NULL AND {alias}.k IS NULL)"
        self.joins.append(f"LEFT JOIN ({self.unknown(rule)}) AS {alias} ON {c} = {alias}.k")
        return f"({alias}.k IS NOT NULL)"

    def hashed(self, rule: Rule) -> bool:
        """Both the rule's column and its target have hashed keys in the lake."""
        return f"{self.contract.name}.{rule.column}" in self.keyed and (rule.target or "") in self.keyed

    def registered(self, rule: Rule) -> str:
        """The distinct non-null hashed keys of a reference's target (both sides have keys)."""
        dataset, column = (rule.target or ".").split(".")
        target = ident(key_column(column))
        return f"SELECT DISTINCT {target} AS k FROM {ident(dataset)} WHERE {target} IS NOT NULL"

    def unknown(self, rule: Rule) -> str:
        """The checked records' distinct non-null values of a reference's column that the target lacks (their
        hashed keys when both sides have them: the form of the plan before it joined keys to `registered`,
        kept for the text comparison and for benchmarks/bench_governance_plans.py)."""
        dataset, column = (rule.target or ".").split(".")
        own = rule.column or ""
        if self.hashed(rule):
            own, column = key_column(own), key_column(column)
        own, column = ident(own), ident(column)
        return (
            f"SELECT d.v AS k FROM (SELECT DISTINCT {own} AS v FROM {ident(self.source)} "
            f"WHERE {own} IS NOT NULL) AS d LEFT JOIN (SELECT DISTINCT {column} AS v FROM "
            f"{ident(dataset)} WHERE {column} IS NOT NULL) AS e ON d.v = e.v WHERE e.v IS NULL"
        )


def _month_number(month: str) -> str:
    return f"CAST(SUBSTR({month}, 6, 2) AS INTEGER)"


def _quarter(month: str) -> str:
    """A `YYYY-MM` month's quarter as `YYYY-Qn` text."""
    number = f"CAST(FLOOR(({_month_number(month)} + 2) / 3) AS INTEGER)"
    return f"(SUBSTR({month}, 1, 4) || '-Q' || CAST({number} AS VARCHAR))"


def _quarter_end(month: str) -> str:
    return f"({_month_number(month)} % 3 = 0)"


def _number(bound: str, kind: Kind) -> str:
    """A bound as a literal of the column's kind, so the column is compared without a per-row cast: a whole
    number for int columns; otherwise a decimal with the bound's own scale (at least the fen's two)."""
    if kind == Kind.INT and "." not in bound:
        return bound
    scale = len(bound.split(".")[1]) if "." in bound else 0
    return f"CAST({literal(bound)} AS DECIMAL(18, {max(scale, 2)}))"


def allowed_values(rule: Rule) -> list[str]:
    if rule.code_list == "industry":
        from jinyu.core.industry import industries

        return sorted(industries())
    if rule.code_list == "district":
        from jinyu.core.districts import CHONGQING_DISTRICTS

        return sorted(CHONGQING_DISTRICTS)
    return list(rule.values)


def compile_plan(
    dataset: str,
    rules: list[Rule],
    available: set[str],
    partitioned: bool,
    *,
    source: str | None = None,
    keyed: set[str] | frozenset[str] = frozenset(),
) -> CheckPlan:
    """The one statement checking `rules` (active ones of `dataset`) over the lake's datasets `available`.

    With `source`, the records checked are those of the relation of that name — some of the dataset's files,
    each row with its file in `_file` (`jinyu.analytics.FileSet`) — and the counts are grouped by file as
    well (column `file`); uniqueness is still judged against the whole dataset.
    A reference rule whose target dataset is not in the lake yet is skipped (and said so), not failed.
    `keyed` names the "dataset.column"s whose files carry a hashed key (`Lake.keyed_columns`): a reference
    between two of them compares the keys."""
    contract = CONTRACTS[dataset]
    builder = _Builder(contract, source or dataset, keyed=frozenset(keyed))
    row, fresh, drift, skipped = [], [], [], {}
    for rule in rules:
        if not rule.active or rule.dataset != dataset:
            continue
        target = (rule.target or ".").split(".")[0]
        if rule.kind == RuleKind.REFERENCE and target not in available and target != dataset:
            skipped[rule.code] = f"目标数据集未加载 / target dataset {target} not loaded"
        elif rule.row_level:
            row.append(rule)
        elif rule.kind == RuleKind.FRESHNESS:
            fresh.append(rule)
        else:
            drift.append(rule)
    groups: list[str] = []
    if source is not None:
        groups.append(f"{col(FILE_COLUMN)} AS file")
    if partitioned:
        groups.append(f"{col(PERIOD)} AS period")
    if contract.owner_column:
        groups.append(f"{col(contract.owner_column)} AS provider")
    failures = [builder.failure(r, i) for i, r in enumerate(row)]
    measures = ["COUNT(*) AS n_rows"]
    measures += [f"COUNT(*) FILTER (WHERE {f}) AS r{i}" for i, f in enumerate(failures)]
    anomalous = " OR ".join(failures) if failures else "FALSE"
    measures.append(f"COUNT(*) FILTER (WHERE {anomalous}) AS n_anomalous")
    measures += [f"MAX({col(r.column or '')}) AS f{i}" for i, r in enumerate(fresh)]
    for i, r in enumerate(drift):
        c = col(r.column or "")
        measures.append(f"COUNT(*) FILTER (WHERE {c} IS NULL) AS d{i}_null")
        measures.append(f"COUNT({c}) AS d{i}_n")
        if r.stat == "mean":
            measures.append(f"SUM({c}) AS d{i}_sum")
    sql = _aggregate(builder, groups, measures)
    return CheckPlan(
        dataset=dataset,
        sql=sql,
        params=builder.params,
        row_rules=tuple(row),
        freshness=tuple(fresh),
        drift=tuple(drift),
        skipped=skipped,
        by_period=partitioned,
        by_provider=contract.owner_column is not None,
        depends_on=frozenset(_depends_on(dataset, row)),
    )


def _aggregate(builder: _Builder, groups: list[str], measures: list[str]) -> str:
    select = ",\n  ".join(groups + measures)
    sql = f"SELECT\n  {select}\nFROM {ident(builder.source)} AS {T}"
    if builder.joins:
        sql += "\n" + "\n".join(builder.joins)
    if groups:
        sql += "\nGROUP BY " + ", ".join(str(i + 1) for i in range(len(groups)))
    return sql


def _depends_on(dataset: str, row_rules: list[Rule]) -> set[str]:
    out = set()
    for rule in row_rules:
        if rule.kind == RuleKind.REFERENCE:
            out.add((rule.target or ".").split(".")[0])
        elif rule.kind in (RuleKind.UNIQUE, RuleKind.WITHIN_FILING_PERIOD):
            out.add(dataset)
    return out
