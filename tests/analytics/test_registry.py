"""Named queries: definitions are checked when made, parameter values when bound."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from jinyu.analytics import Month, NonNegativeInt, Query, all_queries, get_query, register
from jinyu.analytics import registry as registry_module
from jinyu.core.errors import Conflict, InvalidInput, NotFound

BUILT_IN = {
    "accounts_of_bank_tree",
    "accounts_of_owner",
    "chain_segment_flows",
    "enterprise_gov_summary",
    "transfer_monthly_totals",
}

EVERY_TYPE = Query(
    name="every_type",
    sql="SELECT $s, $m, $i, $n, $b, $d, $day, $at FROM t",
    params={
        "s": str, "m": Month, "i": int, "n": NonNegativeInt, "b": bool, "d": Decimal, "day": date,
        "at": datetime,
    },
    description="one parameter of each type",
)  # fmt: skip
GOOD = {
    "s": "x", "m": "2024-02", "i": -3, "n": 0, "b": True, "d": Decimal("1.05"), "day": date(2024, 1, 2),
    "at": datetime(2024, 1, 2, 8, 0, tzinfo=timezone(timedelta(hours=8))),
}  # fmt: skip


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Queries registered by a test vanish after it."""
    monkeypatch.setattr(registry_module, "_QUERIES", dict(registry_module._QUERIES))


def test_the_platform_queries_are_registered() -> None:
    assert {q.name for q in all_queries()} >= BUILT_IN
    names = [q.name for q in all_queries()]
    assert names == sorted(names)


def test_datasets_are_the_tables_read_not_the_ctes() -> None:
    assert get_query("accounts_of_bank_tree").datasets == {"banks", "accounts"}
    assert get_query("chain_segment_flows").datasets == {"transfers", "accounts", "chain_members"}


def test_unknown_query_is_not_found() -> None:
    with pytest.raises(NotFound, match="no_such_query"):
        get_query("no_such_query")


def test_good_values_are_bound_as_plain_values() -> None:
    bound = EVERY_TYPE.bind(GOOD)
    assert bound["at"] == datetime(2024, 1, 2, 0, 0, tzinfo=UTC)
    assert {k: v for k, v in bound.items() if k != "at"} == {k: v for k, v in GOOD.items() if k != "at"}
    assert type(bound["m"]) is str and type(bound["n"]) is int


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("s", 1),
        ("m", "2024-1"),
        ("m", "2024-13"),
        ("m", "2024-01-01"),
        ("i", True),  # a bool is not a count
        ("i", 1.0),
        ("i", "1"),
        ("n", -1),
        ("b", 1),
        ("d", 1.05),  # money never goes through float
        ("d", Decimal("NaN")),
        ("day", datetime(2024, 1, 2, tzinfo=UTC)),
        ("at", datetime(2024, 1, 2)),  # naive: the engines would read it differently
        ("s", None),
    ],
)
def test_wrong_values_name_the_parameter(name: str, value: object) -> None:
    with pytest.raises(InvalidInput) as err:
        EVERY_TYPE.bind({**GOOD, name: value})
    assert [f.field for f in err.value.fields] == [name]


def test_missing_and_unknown_parameters_are_all_reported() -> None:
    with pytest.raises(InvalidInput) as err:
        get_query("accounts_of_owner").bind({"owner_id": "x", "limit": "ten", "page": 2})
    assert {f.field: f.message for f in err.value.fields} == {
        "offset": "缺少参数 / missing parameter",
        "page": "未知参数 / unknown parameter",
        "limit": "应为非负整数 / expected an integer ≥ 0",
    }


@pytest.mark.parametrize(
    ("sql", "params", "field"),
    [
        ("SELECT * FROM t WHERE a = $a AND b = $b", {"a": str}, "params"),  # undeclared $b
        ("SELECT * FROM t", {"a": str}, "params"),  # declared but unused
        ("SELECT * FROM t WHERE a = $1", {}, "sql"),  # positional
        ("SELECT * FROM t WHERE a = ?", {}, "sql"),
        ("DELETE FROM t", {}, "sql"),
        ("SELECT 1; SELECT 2", {}, "sql"),
        ("SELEC 1 FROM", {}, "sql"),
        ("SELECT $a", {"a": float}, "params"),  # no float parameters: money is Decimal
    ],
)
def test_bad_definitions_fail_when_made(sql: str, params: dict[str, type], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        Query(name="bad", sql=sql, params=params, description="")
    assert err.value.fields[0].field == field


@pytest.mark.usefixtures("scratch_registry")
def test_registering_again_is_idempotent_but_a_different_query_conflicts() -> None:
    q = Query(name="scratch", sql="SELECT a FROM t WHERE a = $a", params={"a": str}, description="d")
    assert register(q) is q
    register(Query(name="scratch", sql=q.sql, params={"a": str}, description="d"))
    with pytest.raises(Conflict, match="scratch"):
        register(Query(name="scratch", sql="SELECT 2 AS b FROM t", params={}, description="d"))
    assert get_query("scratch") is q
