"""`check_digit` rules: the SQL verdict on every value equals python-stdnum's (an independent implementation)
on generated values, their near misses and published examples; the one-scan plan counts the same failures;
Spark agrees (marked `spark`)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from stdnum import luhn
from stdnum.cn import uscc
from stdnum.iso7064 import mod_11_2

from jinyu.analytics import DuckDBEngine, Lake, Query
from jinyu.core.errors import InvalidInput
from jinyu.governance.checkdigits import failure_sql
from jinyu.governance.contracts import CONTRACTS
from jinyu.governance.queries import run_plan
from jinyu.governance.rules import Rule
from jinyu.governance.sqlplan import compile_plan
from jinyu.ingest.pipeline import arrow_schema

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# The formats as the docs state them (docs/governance.md), written out here rather than imported.
SPEC = {
    "resident_id": r"[0-9]{17}[0-9X]",
    "uscc": r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}",
    "luhn": r"[0-9]{12,19}",
}
STDNUM = {
    "resident_id": mod_11_2.is_valid,
    "uscc": lambda v: uscc.calc_check_digit(v[:17]) == v[17],
    "luhn": luhn.is_valid,
}
# Published examples, each with the verdict its publisher gives.
PUBLISHED = {
    "resident_id": {"11010519491231002X": True, "440524188001010014": True, "360426199101010071": True,
                    "360426199101010072": False},
    "uscc": {"91110000600037341L": True, "91110000600037341M": False},
    "luhn": {"4111111111111111": True, "5555555555554444": True, "6200000000000005": True,
             "378282246310005": True, "4111111111111112": False},
}  # fmt: skip
COLUMN = {"uscc": "uscc", "resident_id": "name", "luhn": "address"}  # enterprises' text columns used


def fails(scheme: str, value: str | None) -> bool:
    """The expected verdict: the stated format, then stdnum's check digit."""
    if value is None:
        return False
    return not (re.fullmatch(SPEC[scheme], value) and STDNUM[scheme](value))


def _near_misses(value: str, alphabet: str, rng: random.Random) -> list[str]:
    wrong_check = value[:-1] + rng.choice([c for c in alphabet if c != value[-1]])
    i = rng.randrange(len(value) - 1)
    swapped = value[:i] + value[i + 1] + value[i] + value[i + 2 :] if i < len(value) - 2 else value
    return [
        wrong_check,
        swapped,
        value[:-1],
        value + "1",
        value.lower(),
        " " + value,
        value[:5] + "O" + value[6:],
    ]


def generated(scheme: str, rng: random.Random) -> list[str]:
    values: list[str] = []
    for _ in range(60):
        if scheme == "resident_id":
            body = "".join(rng.choice("0123456789") for _ in range(17))
            value = body + mod_11_2.calc_check_digit(body)
            values += [value, *_near_misses(value, "0123456789X", rng)]
        elif scheme == "uscc":
            body = "".join(rng.choice(USCC_CHARS) for _ in range(2)) + "".join(
                rng.choice("0123456789") for _ in range(6)
            )
            body += "".join(rng.choice(USCC_CHARS) for _ in range(9))
            value = body + uscc.calc_check_digit(body)
            values += [value, *_near_misses(value, USCC_CHARS, rng)]
        else:
            body = "".join(rng.choice("0123456789") for _ in range(rng.randint(11, 18)))
            value = body + luhn.calc_check_digit(body)
            values += [value, *_near_misses(value, "0123456789", rng)]
    return values + list(PUBLISHED[scheme]) + ["", "X" * 18]


def rule(scheme: str) -> Rule:
    return Rule.model_validate({"code": f"enterprises.{COLUMN[scheme]}.{scheme}", "dataset": "enterprises",
                                "kind": "check_digit", "column": COLUMN[scheme], "scheme": scheme,
                                "title": "校验位 / check digit"})  # fmt: skip


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lake, dict[str, list[str | None]]]]:
    rng = random.Random(7064)
    values: dict[str, list[str | None]] = {s: list(generated(s, rng)) for s in SPEC}
    n = max(len(v) for v in values.values()) + 3
    for v in values.values():
        v += [None] * (n - len(v))  # nulls never fail
    schema = pa.schema([f.with_nullable(True) for f in arrow_schema(CONTRACTS["enterprises"])])
    columns = {f.name: [None] * n for f in schema}
    for scheme, column in COLUMN.items():
        columns[column] = values[scheme]
    out = Lake(Path(tmp_path_factory.mktemp("cd")) / "lake")
    contract = CONTRACTS["enterprises"]
    table = pa.table(columns, schema=schema)
    out.append("enterprises", table, "L1", partition_by=contract.partition_by, sort_by=contract.sort_by)
    yield out, values


def test_published_examples_are_what_stdnum_says() -> None:
    for scheme, examples in PUBLISHED.items():
        for value, valid in examples.items():
            assert fails(scheme, value) is not valid, (scheme, value)


def verdicts(engine: Any) -> list[tuple[Any, ...]]:
    cols = ", ".join(f't."{COLUMN[s]}", ' + failure_sql(s, f't."{COLUMN[s]}"') for s in SPEC)
    query = Query("test_check_digits", f'SELECT {cols} FROM "enterprises" AS t', {}, "check digits")
    return [tuple(r.values()) for r in engine.run_query(query).to_pylist()]


def expected_verdicts(values: dict[str, list[str | None]]) -> list[tuple[Any, ...]]:
    rows = zip(*(values[s] for s in SPEC), strict=True)
    return [tuple(x for s, v in zip(SPEC, row, strict=True) for x in (v, fails(s, v))) for row in rows]


def test_sql_verdict_equals_stdnum_on_every_value(lake: tuple[Lake, dict[str, list[str | None]]]) -> None:
    engine = DuckDBEngine(lake[0].root)
    try:
        got = verdicts(engine)
    finally:
        engine.close()
    assert sorted(got, key=repr) == sorted(expected_verdicts(lake[1]), key=repr)
    assert {v for row in got for v in row[1::2]} == {True, False}


def test_the_plan_counts_the_failures(lake: tuple[Lake, dict[str, list[str | None]]]) -> None:
    plan = compile_plan("enterprises", [rule(s) for s in SPEC], {"enterprises"}, partitioned=False)
    engine = DuckDBEngine(lake[0].root)
    try:
        (row,) = run_plan(engine, plan, {})
    finally:
        engine.close()
    for i, r in enumerate(plan.row_rules):
        assert row[f"r{i}"] == sum(fails(r.scheme or "", v) for v in lake[1][r.scheme or ""]), r.code


def test_a_bad_scheme_or_a_number_column_is_refused() -> None:
    with pytest.raises(InvalidInput) as bad:
        Rule.model_validate({"code": "enterprises.uscc.cd", "dataset": "enterprises", "kind": "check_digit",
                             "column": "uscc", "scheme": "isbn", "title": "x"})  # fmt: skip
    assert [f.field for f in bad.value.fields] == ["scheme"]
    with pytest.raises(InvalidInput) as number:
        Rule.model_validate({"code": "enterprises.cap.cd", "dataset": "enterprises", "kind": "check_digit",
                             "column": "registered_capital", "scheme": "luhn", "title": "x"})  # fmt: skip
    assert [f.field for f in number.value.fields] == ["column"]


@pytest.mark.spark
def test_spark_gives_the_same_verdicts(lake: tuple[Lake, dict[str, list[str | None]]]) -> None:
    pytest.importorskip("pyspark")
    from jinyu.analytics import SparkEngine

    assert sorted(verdicts(SparkEngine(lake[0].root)), key=repr) == sorted(
        expected_verdicts(lake[1]), key=repr
    )
