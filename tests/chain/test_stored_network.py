"""The stored monthly network (`jinyu chain network-build`): the engine's set-based build gives the weights of the
Python rule `rules.decayed_links` to the fen, the read path prefers it, and a rebuild supersedes it."""

from __future__ import annotations

import dataclasses
import fcntl
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from jinyu.analytics import DuckDBEngine, Lake, ResultCache
from jinyu.audit.models import AuditEntry
from jinyu.chain import (
    contagion,
    counterparties,
    definitions,
    due_months,
    reads,
    resident,
    rules,
    service,
    stored,
)
from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.core.errors import InvalidInput
from jinyu.core.runtime import unit_of_work
from jinyu.governance.contracts import CONTRACTS
from jinyu.migrate import upgrade
from tests.chain.lake import U, _table, _transfer, rows, write

D = Decimal
P = definitions.load().parameters  # decay 0.8 over 6 months (chains.json)
CHAINS = [c.code for c in definitions.load().chains]


def _lake(tmp_path: Path) -> Lake:
    """The chain test region plus two payments in fen: m2 pays c 0.02 in 2023-12 and 0.07 in 2024-01."""
    data = rows()
    data["transfers"] = [
        *data["transfers"],
        _transfer(901, "m2", "c", "0.02", "2023-12-20T10:00:00"),
        _transfer(902, "m2", "c", "0.07", "2024-01-20T10:00:00"),
    ]
    lake = Lake(tmp_path / "lake")
    write(lake, data)
    return lake


def _python(engine: DuckDBEngine, month: str) -> dict[tuple[str, str], Decimal]:
    window = service.link_rows(
        engine, "new_display", rules.add_months(month, 1 - P.network_window_months), month
    )
    return rules.decayed_links(window, month, P.decay_per_month)


class Counting:
    kind = "duckdb"

    def __init__(self, engine: DuckDBEngine) -> None:
        self.engine, self.runs = engine, []  # type: ignore[var-annotated]

    def run(self, name: str, /, **params: object) -> pa.Table:
        self.runs.append(name)
        return self.engine.run(name, **params)


def test_stored_weights_equal_the_python_rule_and_hand_computed_ones(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    engine = DuckDBEngine(lake.root)
    try:
        for month in ("2024-01", "2024-03", "2024-05", "2024-09"):
            stored.build_month(engine, lake, month, CHAINS, P)
        for month in ("2024-01", "2024-03", "2024-05"):
            got = stored.stored_links(engine, "new_display", month, P)
            assert got == _python(engine, month) and got
        march = stored.stored_links(engine, "new_display", "2024-03", P)
        assert march is not None
        # c paid m1 600,000 in March and 50,000 five months before: 600,000 + 50,000 × 0.8^5 = 616,384.00.
        assert march[(U["c"], U["m1"])] == D("616384.00")
        # 0.02 × 0.8^3 + 0.07 × 0.8^2 = 0.01024 + 0.0448 = 0.05504 → 0.06 (rounded once, after summing;
        # rounding each month first would give 0.01 + 0.04 = 0.05).
        assert march[(U["m2"], U["c"])] == D("0.06")
        assert march[(U["m1"], U["x"])] == D("200000.00")  # x is outside the chain, m1 inside: an edge
        may = stored.stored_links(engine, "new_display", "2024-05", P)
        assert may is not None and may[(U["c"], U["m1"])] == D("384000.00")  # 2023-10 left the window
        # Built, but nothing in the window: an empty network, not "never built".
        assert stored.stored_links(engine, "new_display", "2024-09", P) == {}
        assert stored.stored_links(engine, "new_display", "2024-04", P) is None  # never built
    finally:
        engine.close()


def test_the_read_path_uses_the_stored_month_and_falls_back_without_it(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    engine = DuckDBEngine(lake.root)
    try:
        counting = Counting(engine)
        computed = service.network_links(counting, "new_display", "2024-03", P)  # type: ignore[arg-type]
        assert "chain_member_links" in counting.runs
        stored.build_month(engine, lake, "2024-03", CHAINS, P)
        counting.runs.clear()
        from_store = service.network_links(counting, "new_display", "2024-03", P)  # type: ignore[arg-type]
        assert counting.runs == ["chain_network_stored"]
        assert from_store == computed == _python(engine, "2024-03")
        # Built with other parameters (chains.json changed since): not used, computed again.
        other = dataclasses.replace(P, decay_per_month=D("0.5"))
        assert stored.stored_links(engine, "new_display", "2024-03", other) is None
        assert service.network_links(engine, "new_display", "2024-03", other)[(U["c"], U["m1"])] == D(
            "601562.50"
        )  # 600,000 + 50,000 × 0.5^5
    finally:
        engine.close()


def test_a_rebuild_appends_and_the_latest_build_is_read(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    engine = DuckDBEngine(lake.root)
    try:
        stored.build_month(engine, lake, "2024-03", CHAINS, P)
        late = [_transfer(903, "r1", "d1", "100.00", "2024-02-10T10:00:00")]  # a late-arriving payment
        c = CONTRACTS["transfers"]
        lake.append(
            "transfers",
            _table("transfers", late),
            "L-late",
            partition_by=c.partition_by,
            sort_by=c.sort_by,
            mirrors=dict(c.mirrors) or None,
        )
        stored.build_month(engine, lake, "2024-03", CHAINS, P)
        files = lake.files(stored.DATASET)
        assert len(files) == 2  # nothing rewritten: two loads side by side
        got = stored.stored_links(engine, "new_display", "2024-03", P)
        assert got is not None and got[(U["r1"], U["d1"])] == D("300080.00")  # 300,000 + 100 × 0.8
        assert got == _python(engine, "2024-03")
    finally:
        engine.close()


def test_parameters_the_build_cannot_carry_exactly_are_refused() -> None:
    stored.check_exact(P)
    with pytest.raises(InvalidInput):
        stored.check_exact(dataclasses.replace(P, decay_per_month=D("0.123")))  # 0.123^5: 15 places


@pytest.mark.parametrize(
    "args",
    [["--month", "2024-13"], ["--month", "2024-05", "--through", "2024-01"]],
)
def test_the_command_refuses_bad_months(args: list[str]) -> None:
    result = CliRunner().invoke(app, ["chain", "network-build", *args])
    assert result.exit_code != 0
    assert "month" in result.output or "through" in result.output


def _late_payment(lake: Lake, load_id: str, ts: str) -> None:
    c = CONTRACTS["transfers"]
    lake.append(
        "transfers",
        _table("transfers", [_transfer(904, "r1", "d1", "100.00", ts)]),
        load_id,
        partition_by=c.partition_by,
        sort_by=c.sort_by,
        mirrors=dict(c.mirrors) or None,
    )


def test_due_months_are_the_unbuilt_and_those_with_newer_files_and_a_rerun_builds_nothing(
    tmp_path: Path,
) -> None:
    lake = _lake(tmp_path)  # transfers in 2023-10 .. 2024-03
    engine = DuckDBEngine(lake.root)
    try:
        everything = ["2023-10", "2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]
        assert due_months.due_months(engine, lake, P) == everything
        for m in everything:
            stored.build_month(engine, lake, m, CHAINS, P)
        assert due_months.due_months(engine, lake, P) == []  # idempotent: nothing left to build
        # A late payment of 2023-12 reaches the networks as of 2023-12 .. 2024-05 (window 6); of those, the
        # months with transfers are due. Its file is newer than their builds; 2023-10 and 2023-11 are not due.
        _late_payment(lake, "L-late-dec", "2023-12-28T10:00:00")
        assert due_months.due_months(engine, lake, P) == ["2023-12", "2024-01", "2024-02", "2024-03"]
        # Built with other parameters (chains.json changed): every month is due again.
        other = dataclasses.replace(P, decay_per_month=D("0.5"))
        assert due_months.due_months(engine, lake, other) == everything
    finally:
        engine.close()


def _build_audits() -> int:
    with unit_of_work(get_settings()) as session:
        found = session.scalars(select(AuditEntry).where(AuditEntry.action == "chain.network.build")).all()
        return len(found)


def test_the_command_builds_the_due_months_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        upgrade(get_settings())
        _lake(tmp_path / "data")  # the lake of the data dir: <data>/lake
        first = CliRunner().invoke(app, ["chain", "network-build", "--due", "--json"])
        assert first.exit_code == 0, first.output
        assert [m["month"] for m in json.loads(first.stdout)["months"]] == [
            "2023-10", "2023-11", "2023-12", "2024-01", "2024-02", "2024-03"
        ]  # fmt: skip
        again = CliRunner().invoke(app, ["chain", "network-build", "--due"])
        assert again.exit_code == 0 and "no month is due" in again.stdout
        quiet = CliRunner().invoke(app, ["chain", "network-build", "--due", "--json"])
        assert quiet.exit_code == 0 and json.loads(quiet.stdout)["months"] == []
        assert _build_audits() == 1  # the runs that built nothing left no audit entry (cron every 5 min)
        # A late 2023-12 payment (a file newer than the builds): exactly the months whose window holds it.
        _late_payment(Lake(get_settings().lake_dir), "late", "2023-12-20T10:00:00+08:00")
        late = CliRunner().invoke(app, ["chain", "network-build", "--due", "--json"])
        assert late.exit_code == 0, late.output
        built = json.loads(late.stdout)
        assert [m["month"] for m in built["months"]] == ["2023-12", "2024-01", "2024-02", "2024-03"]
        assert built["skipped"] is False and _build_audits() == 2
        # Another build (a server's scheduled one, another cron run) holds the lake's lock: skip, exit 0.
        _late_payment(Lake(get_settings().lake_dir), "later", "2024-03-20T10:00:00+08:00")
        with (get_settings().lake_dir / ".chain-network-build.lock").open("a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            skipped = CliRunner().invoke(app, ["chain", "network-build", "--due", "--json"])
            text = CliRunner().invoke(app, ["chain", "network-build", "--due"])
        assert skipped.exit_code == 0 and json.loads(skipped.stdout) == {
            "dataset": stored.DATASET, "months": [], "skipped": True
        }  # fmt: skip
        assert text.exit_code == 0 and "skipped" in text.stdout and _build_audits() == 2
        released = CliRunner().invoke(
            app, ["chain", "network-build", "--due", "--json"]
        )  # the next run builds
        assert [m["month"] for m in json.loads(released.stdout)["months"]] == ["2024-03"]
        both = CliRunner().invoke(app, ["chain", "network-build", "--due", "--month", "2024-01"])
        assert both.exit_code != 0 and "--due" in both.output
        neither = CliRunner().invoke(app, ["chain", "network-build"])
        assert neither.exit_code != 0 and "--month" in neither.output
    finally:
        get_settings.cache_clear()


def test_a_stored_months_ranking_is_computed_once_per_build(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    engine = DuckDBEngine(lake.root)
    counting = Counting(engine)
    resident.clear()
    try:
        unbuilt = service.ranked_network(counting, "new_display", "2024-03", P)  # type: ignore[arg-type]
        service.ranked_network(counting, "new_display", "2024-03", P)  # type: ignore[arg-type]
        assert counting.runs.count("chain_member_links") == 2  # never built: computed on every request
        stored.build_month(engine, lake, "2024-03", CHAINS, P)
        counting.runs.clear()
        first = service.ranked_network(counting, "new_display", "2024-03", P)  # type: ignore[arg-type]
        again = service.ranked_network(counting, "new_display", "2024-03", P)  # type: ignore[arg-type]
        assert again is first  # from memory the second time
        # The same ranking as computed per request (PageRank to float noise: the links arrive in another order).
        assert [(c.uscc, c.paid, c.received) for c in first.centralities] == [
            (c.uscc, c.paid, c.received) for c in unbuilt.centralities
        ]
        assert [c.pagerank_supplier for c in first.centralities] == pytest.approx(
            [c.pagerank_supplier for c in unbuilt.centralities], abs=1e-12
        )
        assert counting.runs == ["chain_network_stamp", "chain_network_stored_ids", "chain_network_stamp"]
        _late_payment(lake, "L-late-mar", "2024-03-20T10:00:00")
        stored.build_month(engine, lake, "2024-03", CHAINS, P)  # a rebuild is a new stamp: read again
        rebuilt = service.ranked_network(counting, "new_display", "2024-03", P)  # type: ignore[arg-type]
        assert rebuilt is not first and rebuilt.links == first.links
        paid = {c.uscc: c.paid for c in rebuilt.centralities}
        assert paid[U["r1"]] == D("300100.00")  # the late 100.00 of the month itself, undecayed
    finally:
        resident.clear()
        engine.close()


def test_a_computed_months_ranking_and_contagion_are_held_while_its_links_files_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A month never built, read as the chain page reads it (`reads.for_page` on shared answers): the ranking and
    a contagion case computed from its links are held, so the next request reads nothing and gets them again,
    equal to what the plain engine computes; a late payment of the month (new files) computes both afresh, the
    payment in them. With the plain engine nothing is held (as before)."""
    lake = _lake(tmp_path)
    engine = DuckDBEngine(lake.root)
    counting, cache = Counting(engine), ResultCache(lake.root)
    resident.clear()
    cases: list[str] = []  # the real DebtRank, counted
    debtrank = contagion.debtrank
    monkeypatch.setattr(
        contagion, "debtrank", lambda pay, failing: cases.append(failing) or debtrank(pay, failing)
    )

    def page() -> reads.PageReads:  # a new request
        return reads.for_page(counting, "new_display", "2024-03", U["r1"], cache)  # type: ignore[arg-type]

    try:
        first = service.ranked_network(page(), "new_display", "2024-03", P)
        case = counterparties.exposures(page(), "new_display", U["r1"], "2024-03")
        assert "chain_member_links" in counting.runs
        counting.runs.clear()
        assert service.ranked_network(page(), "new_display", "2024-03", P) is first
        assert counterparties.exposures(page(), "new_display", U["r1"], "2024-03") == case
        assert counting.runs == [] and cases == [U["r1"]]  # all held: no statement, ranking or DebtRank
        plain = service.ranked_network(engine, "new_display", "2024-03", P)
        assert [(c.uscc, c.paid, c.received) for c in first.centralities] == [
            (c.uscc, c.paid, c.received) for c in plain.centralities
        ]
        assert [c.pagerank_supplier for c in first.centralities] == pytest.approx(
            [c.pagerank_supplier for c in plain.centralities], abs=1e-12
        )
        assert case == counterparties.exposures(engine, "new_display", U["r1"], "2024-03")
        # r1 stops paying: d1, which r1 paid 300,000.00 in March (all it was paid), is hit directly.
        d1 = {e.uscc: e for e in case}[U["d1"]]
        assert (d1.tier, d1.exposure, d1.buffer) == (1, D("300000.00"), D("300000.00"))
        _late_payment(lake, "L-late-mar", "2024-03-20T10:00:00")  # r1 pays d1 100.00 more in March
        counting.runs.clear()
        fresh = service.ranked_network(page(), "new_display", "2024-03", P)
        again = counterparties.exposures(page(), "new_display", U["r1"], "2024-03")
        assert fresh is not first and "chain_member_links" in counting.runs
        assert {c.uscc: c.paid for c in fresh.centralities}[U["r1"]] == D("300100.00")
        assert {e.uscc: e for e in again}[U["d1"]].exposure == D("300100.00")
        assert again == counterparties.exposures(engine, "new_display", U["r1"], "2024-03")
        assert len(cases) == 4  # the first, the plain engine's, after the payment, the plain engine's again
        counting.runs.clear()
        service.ranked_network(counting, "new_display", "2024-03", P)  # type: ignore[arg-type]
        assert "chain_member_links" in counting.runs  # the plain engine names no answer: computed
    finally:
        resident.clear()
        engine.close()
