"""The resident tracing context answers every per-loan lookup exactly as its statement does.

Held to the SQL (`queries.loan`, `bank_tree`, `batch_loans`, `context` single and batch, `accounts`) row for
row, value for value and in the same order, on: the golden lake plus declared related parties and control
chains (test_related_parties), and every loan of a generated small region, from every bank node that can see
the loan (declarations are filtered by the caller's tree), for both modes and two sets of shell parameters.
Then whole traces: the golden cases to the fen with the context resident and no statement per loan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jinyu.analytics import DuckDBEngine, Lake, Query
from jinyu.risk.tracing import queries, rules, service
from jinyu.risk.tracing.schemas import BatchRequest, TraceParams
from jinyu.risk.tracing.service.context import ResidentContext, ResidentContexts, SqlLookups, lookups
from jinyu.risk.tracing.service.lake import context_params, context_sets, shell_params
from jinyu.risk.tracing.service.tables import load

from .lake import write
from .test_golden import EXPECTED, _by_kind
from .test_related_parties import _rows as related_rows

FAR_PAST, FAR_FUTURE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def related_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DuckDBEngine]]:
    root = tmp_path_factory.mktemp("context-related") / "lake"
    write(Lake(root), related_rows())
    engine = DuckDBEngine(root)
    yield root, engine
    engine.close()


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DuckDBEngine]]:
    from benchmarks.tracing_support import write_lake

    from jinyu.synth import generate

    base = tmp_path_factory.mktemp("context-region")
    generate(base / "region", "small", 7, progress=False)
    write_lake(base / "region", base / "lake")
    engine = DuckDBEngine(base / "lake")
    yield base / "lake", engine
    engine.close()


def _banks(engine: DuckDBEngine) -> dict[str, str | None]:
    rows = engine.run_query(
        Query(name="t_banks", sql="SELECT org_code, parent_code FROM banks", params={}, description="t")
    ).to_pylist()
    return {r["org_code"]: r["parent_code"] for r in rows}


def _roots_of(bank: str, parents: dict[str, str | None]) -> list[str]:
    """The loan's node and every node above it: each may look the loan up."""
    out: list[str] = []
    node: str | None = bank
    while node is not None and node in parents:
        out.append(node)
        node = parents[node]
    return out


def _batch_params(params: dict[str, Any], request: BatchRequest, mode: str) -> dict[str, Any]:
    batch = params | {"window_days": request.window_days, "shell_age_days": request.shell_age_days}
    if mode == "misuse":
        batch |= shell_params(request, FAR_PAST, FAR_FUTURE - dt.timedelta(days=400), "2023-01", "2026-12")
    return batch


def _assert_same(engine: DuckDBEngine, resident: ResidentContext) -> tuple[int, int]:
    """Every lookup equal to its statement; (single-loan contexts compared, batch loans with shells)."""
    sql, parents = SqlLookups(engine), _banks(engine)
    checked = 0
    with_shells = 0  # loans with shells in the batch sets compared
    for root in parents:
        assert resident.bank_tree(root) == sql.bank_tree(root)
    assert resident.bank_tree("nowhere") == sql.bank_tree("nowhere") == set()
    heads = [b for b, p in parents.items() if p is None]
    for head in heads:
        params = {"root_code": head, "loans_from_month": "2000-01", "loans_to_month": "2099-12",
                  "disbursed_from": FAR_PAST, "disbursed_to": FAR_FUTURE}  # fmt: skip
        loans = sql.batch_loans(params)
        assert resident.batch_loans(params) == loans
        for request in (BatchRequest(from_date=dt.date(2024, 1, 1), to_date=dt.date(2024, 12, 31)),
                        BatchRequest(from_date=dt.date(2024, 1, 1), to_date=dt.date(2024, 12, 31),
                                     window_days=90, shell_age_days=30)):  # fmt: skip
            by_mode = {}
            for mode in rules.MODES:
                batch = _batch_params(params, request, mode)
                rows = sql.context(mode, batch, batch=True)
                assert resident.context(mode, batch, batch=True) == rows
                by_mode[mode] = context_sets(rows)
                with_shells += sum(bool(shells) for _related, shells in by_mode[mode].values())
            # the batch's sets made without the rows, both analyses at once: what the rows make
            both = {m: _batch_params(params, request, m) for m in rules.MODES}
            assert resident.context_sets(both) == by_mode
            assert sql.context_sets(both) == by_mode
        for loan in loans:
            for root in _roots_of(str(loan["bank_code"]), parents):
                assert resident.loan(str(loan["loan_id"]), root) == sql.loan(str(loan["loan_id"]), root)
                for mode in rules.MODES:
                    p = context_params(loan, TraceParams(), root, mode, "2099-12")
                    assert resident.context(mode, p, batch=False) == sql.context(mode, p, batch=False)
                    checked += 1
    assert resident.loan("no-such-loan", heads[0]) is None
    accounts = sorted({r["account_no"] for rows in resident.t.accounts_of.values() for r in rows})
    wanted = [*accounts[::7], "no-such-account"]
    assert resident.accounts(wanted) == sql.accounts(wanted)
    return checked, with_shells


def test_the_resident_context_is_the_sql_on_declared_parties_and_control_chains(
    related_lake: tuple[Path, DuckDBEngine],
) -> None:
    _root, engine = related_lake
    resident = ResidentContext(load(engine))
    assert _assert_same(engine, resident)[0] > 10
    # the planted relations are there: declared (with the declaring bank's filter) and control chains
    p = context_params(resident.loan("L5", "H1") or {}, TraceParams(), "H1", "return_flow", "2099-12")
    sources = {r["rel_source"] for r in resident.context("return_flow", p, batch=False)}
    assert any(s and s.startswith("declared:") for s in sources)


def test_the_resident_context_is_the_sql_on_every_loan_of_a_generated_region(
    region: tuple[Path, DuckDBEngine],
) -> None:
    _root, engine = region
    resident = ResidentContext(load(engine))
    checked, with_shells = _assert_same(engine, resident)
    assert checked >= len(resident.t.loans) > 50
    assert with_shells > 10  # the shells' flags are compared on loans that have some


def test_traces_with_the_resident_context_run_no_statement_per_loan(
    related_lake: tuple[Path, DuckDBEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, engine = related_lake
    contexts = ResidentContexts()
    stores = service.Stores(engine, root, b"k" * 32, contexts=contexts)
    assert contexts.get(root) is None  # the first use starts the build; the statements answer meanwhile
    assert isinstance(lookups(stores), SqlLookups)
    assert contexts.wait(60)
    expected = {}
    for loan_id, mode, policy in sorted(EXPECTED):
        loan = queries.loan(engine, loan_id, "H1")
        assert loan is not None
        expected[(loan_id, mode, policy)] = service.trace_loan(
            service.Stores(engine, root, b"k" * 32),
            loan,
            TraceParams(policy=policy),
            mode,
            "H1",  # type: ignore[arg-type]
        )

    def no_sql(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a per-loan statement ran")

    for name in (
        "loan",
        "bank_tree",
        "batch_loans",
        "context",
        "accounts",
        "pair_transfers",
    ):  # hops: the lake's (no index here)
        monkeypatch.setattr(queries, name, no_sql)
    assert isinstance(lookups(stores), ResidentContext)
    for (loan_id, mode, policy), lake in expected.items():
        loan = service.context.find_loan(stores, loan_id, "H1")
        traced = service.trace_loan(stores, loan, TraceParams(policy=policy), mode, "H1")  # type: ignore[arg-type]
        assert _by_kind(traced.trace.nodes) == EXPECTED[(loan_id, mode, policy)]
        assert traced.trace.nodes == lake.trace.nodes and traced.trace.edges == lake.trace.edges
        assert traced.related == lake.related and traced.shells == lake.shells


def test_a_new_load_makes_the_context_stale_until_rebuilt(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    write(Lake(root), related_rows())
    contexts = ResidentContexts()
    contexts.get(root)
    assert contexts.wait(60)
    first = contexts.get(root)
    assert first is not None
    write(Lake(root), {"banks": [{"org_code": "H9", "name": "新银行", "level": "head_office",
                                  "parent_code": None, "district_code": "500103", "uscc": None}]},
          load_id="L9")  # fmt: skip
    assert contexts.get(root) is None
    assert contexts.wait(60)
    second = contexts.get(root)
    assert second is not None and second.bank_tree("H9") == {"H9"} and first.bank_tree("H9") == set()
