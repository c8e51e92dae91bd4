"""The standard `loans` rule set in Great Expectations 1.x, for `bench_governance.py --ge` (issue 15).

Great Expectations (GX) is a benchmark-only dependency: the `bench-ge` uv dependency group, which `make test`
and `make demo` never install. Run it as

    .tools/bin/uv run --group bench-ge python benchmarks/bench_governance.py --ge ...

The engine is GX's **pandas execution engine** (a `pandas` data source, a dataframe asset, the whole
dataframe as the batch) — the one a data engineer uses on files. GX 1.x has no polars engine; its other
engines are Spark and SQL through SQLAlchemy (PostgreSQL, Snowflake, … and a generic `add_sql`), which would
push each expectation's metrics down as SQL queries to that database (docs/governance.md, Performance).

The rules, stated as the plan states them (a null never fails a range, a reference or a check digit; GX's
column-map expectations leave nulls out of the judged values, as the plan does):
- `loans.term_months.range` (1–360, inclusive): `ExpectColumnValuesToBeBetween`;
- `loans.amount.range` (0.01–10¹⁰, inclusive): the same, on the amount cast to float64 in Arrow before
  pandas (as the pandera run casts it; pandas would otherwise hold 50 M Python `Decimal` objects);
- `loans.disbursed_at.range` (not after the check day, i.e. before 00:00 UTC of the next day): the same,
  `strict_max=True`, on the tz-aware timestamps;
- `loans.borrower.registered` (a reference to `enterprises.uscc`): GX 1.x has no cross-dataset expectation
  on pandas (its `UnexpectedRowsExpectation` is SQL-only), so `ExpectColumnValuesToBeInSet` with the value set
  read from `enterprises` — on the text codes, or with `keys` on the hashed keys as the plan compares them;
- with `check_digit`: a **custom expectation** (`ExpectColumnValuesToBeValidUscc`, a column-map metric on the
  pandas engine): the GB 32100 format, then python-stdnum's `uscc.calc_check_digit`, judged once per distinct
  value and mapped back onto the records (per record it would be 50 M Python calls), as the plan does.

Each expectation's `unexpected_count` is the rule's failure count; `bench_governance.py` asserts it equal to
the DuckDB check's per rule. A raised expectation is refused, not counted.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

# No usage statistics (this machine has no network beyond the package registries).
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

USCC_FORMAT = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")
# The rule code each expectation's column stands for (the reference is on the text code or its key).
RULE_OF_COLUMN = {
    "term_months": "loans.term_months.range",
    "amount": "loans.amount.range",
    "disbursed_at": "loans.disbursed_at.range",
    "borrower_uscc": "loans.borrower.registered",
    "borrower_uscc__key": "loans.borrower.registered",
}
CHECK_DIGIT_RULE = "loans.borrower_uscc.check_digit"
# Where the time of the last run went (read, GX set-up, validation), for the result file.
PHASES: list[dict[str, Any]] = []


def uscc_valid(value: str) -> bool:
    """GB 32100 format, then python-stdnum's check character (the value as stored: no cleaning)."""
    from stdnum.cn import uscc

    return USCC_FORMAT.fullmatch(value) is not None and uscc.calc_check_digit(value[:17]) == value[17]


def _custom_expectation() -> Any:
    """The check-digit expectation class, defined on first use (GX is imported only with --ge). GX registers
    metrics and expectations by name at class creation, so it is made once."""
    global _EXPECTATION
    if _EXPECTATION is not None:
        return _EXPECTATION
    import pandas as pd
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial

    class ColumnValuesValidUscc(ColumnMapMetricProvider):
        condition_metric_name = "column_values.valid_uscc"

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, **kwargs: Any) -> pd.Series:
            distinct = column.unique()  # GX passes the non-null values only
            return column.map(dict(zip(distinct, map(uscc_valid, distinct), strict=True))).astype(bool)

    class ExpectColumnValuesToBeValidUscc(ColumnMapExpectation):
        """统一社会信用代码校验位正确 / the USCC's format and check character (GB 32100, python-stdnum)."""

        map_metric = "column_values.valid_uscc"

    _EXPECTATION = ExpectColumnValuesToBeValidUscc
    return _EXPECTATION


_EXPECTATION: Any = None


def suite_for(registered: list[Any], ref: str, end_of_as_of: Any, check_digit: bool) -> Any:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    expectations = [
        gxe.ExpectColumnValuesToBeBetween(column="term_months", min_value=1, max_value=360),
        gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0.01, max_value=1e10),
        gxe.ExpectColumnValuesToBeBetween(column="disbursed_at", max_value=end_of_as_of, strict_max=True),
        gxe.ExpectColumnValuesToBeInSet(column=ref, value_set=registered),
    ]
    if check_digit:
        expectations.append(_custom_expectation()(column="borrower_uscc"))
    return gx.ExpectationSuite(name="loans_standard", expectations=expectations)


def read_frame(root: Path, columns: list[str], rows: int | None = None) -> Any:
    """The checked columns of every loans file (or the first `rows` records) as pandas, the amount float64."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    lake = ds.dataset(root / "loans", format="parquet", partitioning="hive")
    table = lake.to_table(columns=columns) if rows is None else lake.head(rows, columns=columns)
    i = table.schema.get_field_index("amount")
    table = table.set_column(i, "amount", pc.cast(table.column("amount"), "float64"))
    return table.to_pandas()


def counts_of(result: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in result.results:
        config = r.expectation_config
        if r.exception_info.get("raised_exception"):
            raise RuntimeError(f"great expectations: {config.type} raised: {r.exception_info}")
        column = config.kwargs["column"]
        code = (
            CHECK_DIGIT_RULE
            if config.type == "expect_column_values_to_be_valid_uscc"
            else RULE_OF_COLUMN[column]
        )
        counts[code] = int(r.result["unexpected_count"])
    return counts


def pandas_batch(frame: Any) -> Any:
    """The dataframe as a batch of GX's pandas engine (an ephemeral context: nothing written to disk)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return (
        context.data_sources.add_pandas("lake")
        .add_dataframe_asset("loans")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )


def ge_in_set_fixed_run(root: Path) -> tuple[float, float, dict[str, int]]:
    """The reference expectation alone on ONE record: GX's cost that does not grow with the rows. GX
    serialises each expectation's configuration (pydantic v1) many times while planning the metrics
    (profiled: ~80 times, 8 M calls for 100,000 registered codes), so a large value set costs per validation,
    whatever the size of the batch. Timed to say how much of `ge` is that and how much is per record."""
    import great_expectations.expectations as gxe
    import pyarrow.parquet as pq

    registered = pq.read_table(root / "enterprises", columns=["uscc"]).column("uscc").drop_null().to_pylist()
    frame = read_frame(root, ["amount", "borrower_uscc"], rows=1)
    batch = pandas_batch(frame)
    cpu, started = time.process_time(), time.perf_counter()
    result = batch.validate(
        gxe.ExpectColumnValuesToBeInSet(column="borrower_uscc", value_set=registered), result_format="BASIC"
    )
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return elapsed, cpu, {"unexpected_count": int(result.result["unexpected_count"])}


def ge_run(
    root: Path, end_of_as_of: Any, check_digit: bool = False, keys: bool = False
) -> tuple[float, float, dict[str, int]]:
    """Read the checked columns, validate the suite on GX's pandas engine; wall and CPU seconds, counts."""
    import pyarrow.parquet as pq

    ref = "borrower_uscc__key" if keys else "borrower_uscc"
    column = "uscc__key" if keys else "uscc"
    cpu, started = time.process_time(), time.perf_counter()
    registered = pq.read_table(root / "enterprises", columns=[column]).column(column).drop_null().to_pylist()
    checked = [
        "term_months",
        "amount",
        "disbursed_at",
        ref,
        *(["borrower_uscc"] if check_digit and keys else []),
    ]
    frame = read_frame(root, checked)
    read_s = time.perf_counter() - started
    batch = pandas_batch(frame)
    suite = suite_for(registered, ref, end_of_as_of, check_digit)
    setup_s = time.perf_counter() - started - read_s
    result = batch.validate(suite, result_format="BASIC")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    PHASES.append(
        {"keys": keys, "read_s": read_s, "setup_s": setup_s, "validate_s": elapsed - read_s - setup_s}
    )
    return elapsed, cpu, counts_of(result)


def ge_figures(timed: dict[str, Any], gov_counts: dict[str, int], rows: int, gov_s: float) -> dict[str, Any]:
    """The GX variants' part of the result: medians, rows/s, ratios to the check, counts equal per rule."""
    out: dict[str, Any] = {}
    for name in ("ge", "ge_keys"):
        if name not in timed:
            continue
        seconds, counts = timed[name]
        expected = {code: gov_counts[code] for code in counts}
        out[f"{name}_pandas_s"] = round(seconds, 3)
        out[f"{name}_pandas_rows_per_s"] = round(rows / seconds)
        out[f"ratio_vs_{name}"] = round(seconds / gov_s, 2)
        out[f"failures_{name}"] = counts
        out[f"{name}_same_failure_counts"] = counts == expected and len(counts) >= 4
    if "ge_in_set_fixed" in timed:
        out["ge_in_set_on_one_record_s"] = round(timed["ge_in_set_fixed"][0], 3)
    if PHASES:
        out["ge_phases_s"] = [
            {k: v if isinstance(v, bool) else round(v, 3) for k, v in p.items()} for p in PHASES
        ]
    return out


def assert_same_as_check(result: dict[str, Any]) -> None:
    """Refuse a run (after its file is written, to read) in which GX counted other failures than the check."""
    differ = [
        k for k, v in result.items() if k.startswith("ge") and k.endswith("_same_failure_counts") and not v
    ]
    if differ:
        raise SystemExit(f"great expectations counted other failures than the check: {differ}")
