"""The chain page's per-request reads: a statement runs once, and the links of a window inside one already
read are exactly what the engine answers for that window (compared with the engine itself, run directly)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from jinyu.analytics import DuckDBEngine, Lake, ResultCache
from jinyu.analytics.results import store_dir
from jinyu.chain import queries
from jinyu.chain.reads import (
    BORROWERS,
    COVERAGE,
    FLOWS,
    LINKS,
    LINKS_AND_FLOWS,
    LOANS,
    LOANS_AND_BORROWERS,
    MEMBERS,
    coverage,
    for_page,
    links_and_flows,
    loans_and_borrowers,
    monthly,
    warm,
)
from jinyu.governance.contracts import CONTRACTS
from tests.chain.lake import U, _table, _transfer, rows, write


class Counting:
    """The real engine, counting the statements it runs."""

    kind = "duckdb"

    def __init__(self, engine: DuckDBEngine) -> None:
        self.engine = engine
        self.runs: list[str] = []
        self.calls: list[tuple[str, dict[str, object]]] = []

    def run(self, query_name: str, /, **params: object) -> pa.Table:
        self.runs.append(query_name)
        self.calls.append((query_name, params))
        return self.engine.run(query_name, **params)


def test_narrower_links_are_a_slice_and_statements_run_once(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    engine = DuckDBEngine(lake.root)
    try:
        counting = Counting(engine)
        reads = for_page(counting, "new_display", "2024-03", "91")  # type: ignore[arg-type]
        assert counting.runs == []  # nothing read before a service asks (its access check comes first)
        narrow = {"chain_code": "new_display", "from_month": "2024-01", "to_month": "2024-03"}
        sliced = reads.run(LINKS, **narrow).to_pylist()
        assert counting.runs == [LINKS]  # the six months to 2024-03 (the network's window), then cut
        reads.run(LINKS, chain_code="new_display", from_month="2023-10", to_month="2024-03")
        assert counting.runs == [LINKS]  # the network's own window: the same read
        direct = engine.run(LINKS, **narrow).to_pylist()
        assert (
            sliced == direct and len(direct) == 6
        )  # March's six payments (tests/chain/lake.py), none earlier
        members = {
            "chain_code": "new_display",
            "segment": "",
            "limit": 100,
            "offset": 0,
            "segment_overrides": "",
        }
        reads.run("chain_member_list", **members)
        reads.run("chain_member_list", **members)
        assert counting.runs == [LINKS, "chain_member_list"]  # the slice and the repeat ran nothing
        wider = {**narrow, "from_month": "2023-01"}  # not inside what was read: the engine answers
        assert reads.run(LINKS, **wider).to_pylist() == engine.run(LINKS, **wider).to_pylist()
        assert counting.runs[-1] == LINKS and len(counting.runs) == 3
    finally:
        engine.close()


def test_answers_are_reused_between_requests_until_the_files_change(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    engine = DuckDBEngine(lake.root)
    try:
        counting, cache = Counting(engine), ResultCache(lake.root)
        window = {"chain_code": "new_display", "from_month": "2024-01", "to_month": "2024-03"}
        first = for_page(counting, "new_display", "2024-03", None, cache)  # type: ignore[arg-type]
        assert len(first.run(LINKS, **window).to_pylist()) == 6
        again = for_page(counting, "new_display", "2024-03", None, cache)  # type: ignore[arg-type]
        assert len(again.run(LINKS, **window).to_pylist()) == 6
        assert counting.runs == [LINKS]  # the second request ran no statement
        c = CONTRACTS["transfers"]  # one more March payment, c → m1, appended as a new load
        late = _table("transfers", [_transfer(99, "c", "m1", "7.00", "2024-03-20T10:00:00")])
        lake.append(
            "transfers",
            late,
            "L-late",
            partition_by=c.partition_by,
            sort_by=c.sort_by,
            mirrors=dict(c.mirrors) or None,
        )
        fresh = for_page(counting, "new_display", "2024-03", None, cache)  # type: ignore[arg-type]
        late_rows = fresh.run(LINKS, **window).to_pylist()
        assert counting.runs == [LINKS, LINKS]  # new files: computed afresh
        pair = [r for r in late_rows if r["payer"] == U["c"] and r["payee"] == U["m1"]]
        assert [(r["txn_count"], str(r["total_amount"])) for r in pair] == [(2, "600007.00")]
    finally:
        engine.close()


def test_windows_are_assembled_from_months_equal_to_the_engines_answer(tmp_path: Path) -> None:
    """Links and flows kept per month: every window, assembled from months held and read, equals the engine's
    own answer for it; only months not held are read, in one statement over their span."""
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    engine = DuckDBEngine(lake.root)
    try:
        counting, cache = Counting(engine), ResultCache(lake.root)
        flows_params = {"chain_code": "new_display", "segment_overrides": ""}
        for name, extra in ((LINKS, {"chain_code": "new_display"}), (FLOWS, flows_params)):
            for first, last in (("2024-02", "2024-03"), ("2023-11", "2024-04"), ("2024-01", "2024-01")):
                params = {**extra, "from_month": first, "to_month": last}
                got = monthly(counting, cache, name, params)  # type: ignore[arg-type]
                assert got.to_pylist() == engine.run(name, **params).to_pylist()
        links = [p for n, p in counting.calls if n == LINKS]
        # 02..03 read; 11..04 reads its missing span 11..04 (held months inside it are read again); 01 held
        assert [(p["from_month"], p["to_month"]) for p in links] == [
            ("2024-02", "2024-03"),
            ("2023-11", "2024-04"),
        ]
        march = monthly(
            counting,
            cache,
            LINKS,
            {"chain_code": "new_display", "from_month": "2024-03", "to_month": "2024-03"},
        )  # type: ignore[arg-type]
        assert len(march.to_pylist()) == 6 and len(counting.calls) == 4  # March's six payments, nothing read
    finally:
        engine.close()


def test_warm_up_leaves_the_first_page_request_no_scan(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    engine = DuckDBEngine(lake.root)
    try:
        counting, cache = Counting(engine), ResultCache(lake.root)
        months = warm(counting, cache, {"new_display": ""}, "2024-03")  # type: ignore[arg-type]
        assert months[0] == "2023-04" and months[-1] == "2024-03" and len(months) == 12
        # links and flows in one statement (one scan of the transfers), loans and borrowers in another
        assert [n for n, _ in counting.calls] == [LINKS_AND_FLOWS, LOANS_AND_BORROWERS]
        page = for_page(counting, "new_display", "2024-03", "91", cache)  # type: ignore[arg-type]
        window = {"chain_code": "new_display", "from_month": "2024-01", "to_month": "2024-03"}
        links = page.run(LINKS, **window)
        flows = page.run(FLOWS, **window, segment_overrides="")
        loans = page.run(LOANS, **window, segment_overrides="")
        assert len(counting.calls) == 2  # the visitor's scans came from the warm-up's months
        assert loans.to_pylist() == engine.run(LOANS, **window, segment_overrides="").to_pylist()
        assert links.to_pylist() == engine.run(LINKS, **window).to_pylist()
        assert flows.to_pylist() == engine.run(FLOWS, **window, segment_overrides="").to_pylist()
        assert len(flows.to_pylist()) > 0
    finally:
        engine.close()


def _append_transfer(lake: Lake, load_id: str, n: int, payer: str, payee: str, amount: str, ts: str) -> None:
    c = CONTRACTS["transfers"]
    lake.append(
        "transfers",
        _table("transfers", [_transfer(n, payer, payee, amount, ts)]),
        load_id,
        partition_by=c.partition_by,
        sort_by=c.sort_by,
        mirrors=dict(c.mirrors) or None,
    )


def test_a_load_of_another_month_leaves_the_months_held_current(tmp_path: Path) -> None:
    """A month's answer is keyed by its own partition's transfer files: a payment loaded into April leaves
    January..March held (no statement), and the windows still equal the engine's answers; a payment loaded
    into March makes only March read again."""
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    engine = DuckDBEngine(lake.root)
    try:
        counting, cache = Counting(engine), ResultCache(lake.root)
        window = {"chain_code": "new_display", "from_month": "2024-01", "to_month": "2024-03"}
        flows = {**window, "segment_overrides": ""}
        monthly(counting, cache, LINKS, window)  # type: ignore[arg-type]
        monthly(counting, cache, FLOWS, flows)  # type: ignore[arg-type]
        assert len(counting.calls) == 2
        _append_transfer(lake, "L-april", 98, "c", "m1", "5.00", "2024-04-02T10:00:00")
        assert monthly(counting, cache, LINKS, window).to_pylist() == engine.run(LINKS, **window).to_pylist()  # type: ignore[arg-type]
        assert monthly(counting, cache, FLOWS, flows).to_pylist() == engine.run(FLOWS, **flows).to_pylist()  # type: ignore[arg-type]
        assert len(counting.calls) == 2  # April's load changed no file of January..March
        wider = {**window, "to_month": "2024-04"}
        april = monthly(counting, cache, LINKS, wider).to_pylist()  # type: ignore[arg-type]
        assert counting.calls[-1] == (LINKS, {**window, "from_month": "2024-04", "to_month": "2024-04"})
        assert april == engine.run(LINKS, **wider).to_pylist()
        assert [
            (r["payer"], r["payee"], str(r["total_amount"])) for r in april if r["month"] == "2024-04"
        ] == [(U["c"], U["m1"], "5.00")]
        _append_transfer(lake, "L-march", 99, "c", "m1", "7.00", "2024-03-20T10:00:00")
        got = monthly(counting, cache, LINKS, wider).to_pylist()  # type: ignore[arg-type]
        assert counting.calls[-1] == (LINKS, {**window, "from_month": "2024-03", "to_month": "2024-03"})
        assert len(counting.calls) == 4 and got == engine.run(LINKS, **wider).to_pylist()
        march = [r for r in got if r["month"] == "2024-03" and (r["payer"], r["payee"]) == (U["c"], U["m1"])]
        assert [(r["txn_count"], str(r["total_amount"])) for r in march] == [(2, "600007.00")]
    finally:
        engine.close()


def test_loans_by_month_are_assembled_equal_to_the_engines_answer(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    engine = DuckDBEngine(lake.root)
    try:
        counting, cache = Counting(engine), ResultCache(lake.root)
        for first, last in (("2024-01", "2024-06"), ("2023-07", "2024-12"), ("2024-03", "2024-03")):
            params = {
                "chain_code": "new_display",
                "from_month": first,
                "to_month": last,
                "segment_overrides": "",
            }
            got = monthly(counting, cache, LOANS, params).to_pylist()  # type: ignore[arg-type]
            assert got == engine.run(LOANS, **params).to_pylist()
        assert any(engine.run(LOANS, **params).to_pylist() for params in [{"chain_code": "new_display",
            "from_month": "2023-01", "to_month": "2024-12", "segment_overrides": ""}])  # fmt: skip
    finally:
        engine.close()


def test_answers_kept_on_disk_serve_another_process_until_the_files_change(tmp_path: Path) -> None:
    """A second cache on the same store (another worker, or the next process) answers from the first one's
    files without a statement, exactly the engine's answer; a new load of the month, a cleared store or an
    unreadable file make it compute again."""
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    engine = DuckDBEngine(lake.root)
    try:
        store = store_dir(lake.root)
        assert store.parent == lake.root.parent and not store.is_relative_to(lake.root)
        window = {"chain_code": "new_display", "from_month": "2023-10", "to_month": "2024-03"}
        flows = {**window, "segment_overrides": ""}
        first = ResultCache(lake.root, store=store)
        monthly(Counting(engine), first, LINKS, window)  # type: ignore[arg-type]
        monthly(Counting(engine), first, FLOWS, flows)  # type: ignore[arg-type]
        counting, second = Counting(engine), ResultCache(lake.root, store=store)
        links = monthly(counting, second, LINKS, window)  # type: ignore[arg-type]
        assert counting.calls == []
        assert links.schema == engine.run(LINKS, **window).schema
        assert links.to_pylist() == engine.run(LINKS, **window).to_pylist()
        assert monthly(counting, second, FLOWS, flows).to_pylist() == engine.run(FLOWS, **flows).to_pylist()  # type: ignore[arg-type]
        assert counting.calls == []
        _append_transfer(lake, "L-march", 99, "c", "m1", "7.00", "2024-03-20T10:00:00")
        third = ResultCache(lake.root, store=store)
        got = monthly(counting, third, LINKS, window).to_pylist()  # type: ignore[arg-type]
        assert counting.calls == [(LINKS, {**window, "from_month": "2024-03", "to_month": "2024-03"})]
        assert got == engine.run(LINKS, **window).to_pylist()
        assert len(list((store / LINKS).glob("*.arrow"))) == 6  # March's older answer replaced, not kept
        for f in (store / LINKS).glob("*.arrow"):
            f.write_bytes(b"not arrow")
        fourth = ResultCache(lake.root, store=store)
        assert monthly(counting, fourth, LINKS, window).to_pylist() == got  # type: ignore[arg-type]
        assert counting.calls[-1] == (LINKS, window)  # every month unreadable: read again, one statement
        fourth.clear()
        assert not store.exists()
        monthly(counting, ResultCache(lake.root, store=store), LINKS, window)  # type: ignore[arg-type]
        assert len(counting.calls) == 3
    finally:
        engine.close()


def test_links_and_flows_read_together_equal_each_query_run_on_its_own(tmp_path: Path) -> None:
    """`chain_links_and_flows` split into its two parts: every window's links and flows, assembled from the
    months it kept, equal (schema and rows) what `chain_member_links` and `chain_segment_flows` answer run
    directly, with and without segment overrides; only the months lacking either are read."""
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    engine = DuckDBEngine(lake.root)
    try:
        counting, cache = Counting(engine), ResultCache(lake.root)
        moved = f"new_display:{U['m1']}:panels;new_display:{U['c']}:dealers"
        seen = 0  # windows with rows in both parts
        for overrides in ("", moved):
            cache.clear()
            for first, last in (("2024-02", "2024-03"), ("2023-11", "2024-04"), ("2024-01", "2024-01")):
                window = {"chain_code": "new_display", "from_month": first, "to_month": last}
                flows_params = {**window, "segment_overrides": overrides}
                links_and_flows(counting, cache, flows_params)  # type: ignore[arg-type]
                runs = len(counting.calls)
                links = monthly(counting, cache, LINKS, window)  # type: ignore[arg-type]
                flows = monthly(counting, cache, FLOWS, flows_params)  # type: ignore[arg-type]
                assert len(counting.calls) == runs  # both came from the one statement's months
                direct_links, direct_flows = engine.run(LINKS, **window), engine.run(FLOWS, **flows_params)
                assert links.equals(direct_links) and flows.equals(direct_flows)
                seen += links.num_rows > 0 and flows.num_rows > 0
        assert seen == 4  # 02..03 and 11..04 have March's payments, under either overrides
        assert {n for n, _ in counting.calls} == {LINKS_AND_FLOWS}
        spans = [(p["from_month"], p["to_month"]) for _, p in counting.calls]
        # 02..03 read; 11..04 reads its missing span; 01 held — for each of the two overrides
        assert spans == [("2024-02", "2024-03"), ("2023-11", "2024-04")] * 2
        # The moved segments changed the flows, not the links.
        plain = engine.run(FLOWS, chain_code="new_display", from_month="2023-11", to_month="2024-04",
                           segment_overrides="")  # fmt: skip
        assert not plain.equals(flows_of(engine, moved))
    finally:
        engine.close()


def flows_of(engine: DuckDBEngine, overrides: str) -> pa.Table:
    return engine.run(
        FLOWS, chain_code="new_display", from_month="2023-11", to_month="2024-04", segment_overrides=overrides
    )


def test_the_page_reads_its_flows_and_links_in_one_statement(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    engine = DuckDBEngine(lake.root)
    try:
        counting, cache = Counting(engine), ResultCache(lake.root)
        page = for_page(counting, "new_display", "2024-03", "91", cache)  # type: ignore[arg-type]
        window = {"chain_code": "new_display", "from_month": "2024-02", "to_month": "2024-03"}
        flows = page.run(FLOWS, **window, segment_overrides="")  # the page asks for flows first
        network = {"chain_code": "new_display", "from_month": "2023-10", "to_month": "2024-03"}
        links = page.run(LINKS, **network)  # the network's six months, wider than the flows' window
        assert [(n, p["from_month"], p["to_month"]) for n, p in counting.calls] == [
            (LINKS_AND_FLOWS, "2023-10", "2024-03")
        ]
        assert flows.equals(engine.run(FLOWS, **window, segment_overrides=""))
        assert links.equals(engine.run(LINKS, **network)) and links.num_rows > 0
    finally:
        engine.close()


def _all_members(overrides: str) -> dict[str, object]:
    """`chain_member_list`'s parameters as the page's network reads the whole list."""
    return {
        "chain_code": "new_display",
        "segment": "",
        "limit": queries.ALL_MEMBERS,
        "offset": 0,
        "segment_overrides": overrides,
    }


def test_loans_and_borrowers_read_together_equal_each_query_run_on_its_own(tmp_path: Path) -> None:
    """`chain_loans_and_borrowers` split into its two parts: every window's loans and borrowing members,
    assembled from the months it kept, equal (schema and rows) what `chain_loans` and `chain_member_borrowers`
    answer run directly, with and without segment overrides, and the credit coverage counted from them and the
    member list equals `chain_credit_coverage` run directly; only the months lacking either are read."""
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    engine = DuckDBEngine(lake.root)
    try:
        counting, cache = Counting(engine), ResultCache(lake.root)
        moved = f"new_display:{U['m1']}:panels;new_display:{U['c']}:dealers"
        seen = 0  # windows with rows in both parts
        for overrides in ("", moved):
            cache.clear()
            for first, last in (("2024-01", "2024-02"), ("2023-11", "2024-06"), ("2024-04", "2024-04")):
                window = {"chain_code": "new_display", "from_month": first, "to_month": last}
                params = {**window, "segment_overrides": overrides}
                loans_and_borrowers(counting, cache, params)  # type: ignore[arg-type]
                runs = len(counting.calls)
                loans = monthly(counting, cache, LOANS, params)  # type: ignore[arg-type]
                borrowers = monthly(counting, cache, BORROWERS, window)  # type: ignore[arg-type]
                assert len(counting.calls) == runs  # both came from the one statement's months
                assert loans.equals(engine.run(LOANS, **params))
                assert borrowers.equals(engine.run(BORROWERS, **window))
                members = engine.run(MEMBERS, **_all_members(overrides))
                assert coverage(members, borrowers).equals(engine.run(COVERAGE, **params))
                seen += loans.num_rows > 0 and borrowers.num_rows > 0
        assert seen == 6  # every window has a loan to a member (c in January and April, m1 in February)
        assert {n for n, _ in counting.calls} == {LOANS_AND_BORROWERS}
        spans = [(p["from_month"], p["to_month"]) for _, p in counting.calls]
        # 01..02 read; 11..06 reads its missing span (months held inside it are read again); 04 held
        assert spans == [("2024-01", "2024-02"), ("2023-11", "2024-06")] * 2
        # The moved segments changed the loans' segments and the coverage, not the borrowers.
        plain = {"chain_code": "new_display", "from_month": "2023-11", "to_month": "2024-06"}
        assert not engine.run(LOANS, **plain, segment_overrides="").equals(
            engine.run(LOANS, **plain, segment_overrides=moved)
        )
    finally:
        engine.close()


def test_the_page_counts_credit_coverage_from_its_loans_statement_and_member_list(tmp_path: Path) -> None:
    """The page's loans and credit coverage: one statement (`chain_loans_and_borrowers`) besides the member
    list the page reads anyway; coverage by hand: new_display's members m1, m2 (materials), c (panels), d1
    (modules), r1 (dealers); c borrowed in January and April, m1 in February (tests/chain/lake.py)."""
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    engine = DuckDBEngine(lake.root)
    try:
        counting, cache = Counting(engine), ResultCache(lake.root)
        page = for_page(counting, "new_display", "2024-06", None, cache)  # type: ignore[arg-type]
        window = {"chain_code": "new_display", "from_month": "2024-01", "to_month": "2024-06"}
        page.run(MEMBERS, **_all_members(""))  # the network's member list, read before the loans
        loans = page.run(LOANS, **window, segment_overrides="")
        covered = page.run(COVERAGE, **window, segment_overrides="")
        assert [n for n, _ in counting.calls] == [MEMBERS, LOANS_AND_BORROWERS]
        assert loans.equals(engine.run(LOANS, **window, segment_overrides=""))
        assert covered.equals(engine.run(COVERAGE, **window, segment_overrides=""))
        assert covered.to_pylist() == [
            {"segment": "dealers", "members": 1, "members_with_credit": 0},
            {"segment": "materials", "members": 2, "members_with_credit": 1},
            {"segment": "modules", "members": 1, "members_with_credit": 0},
            {"segment": "panels", "members": 1, "members_with_credit": 1},
        ]
        # March alone: nobody borrowed; a second request reads nothing.
        march = {**window, "from_month": "2024-03", "to_month": "2024-03", "segment_overrides": ""}
        again = for_page(counting, "new_display", "2024-03", None, cache)  # type: ignore[arg-type]
        assert [r["members_with_credit"] for r in again.run(COVERAGE, **march).to_pylist()] == [0, 0, 0, 0]
        assert again.run(COVERAGE, **window, segment_overrides="").equals(covered)
        assert len(counting.calls) == 2
    finally:
        engine.close()


def test_credit_coverage_of_a_paged_member_list_is_the_statements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the member list the page reads not be the whole chain, coverage is not counted from it: the
    coverage statement answers."""
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    engine = DuckDBEngine(lake.root)
    monkeypatch.setattr(queries, "ALL_MEMBERS", 2)
    try:
        counting, cache = Counting(engine), ResultCache(lake.root)
        page = for_page(counting, "new_display", "2024-06", None, cache)  # type: ignore[arg-type]
        window = {"chain_code": "new_display", "from_month": "2024-01", "to_month": "2024-06"}
        covered = page.run(COVERAGE, **window, segment_overrides="")
        assert [n for n, _ in counting.calls] == [LOANS_AND_BORROWERS, MEMBERS, COVERAGE]
        assert covered.equals(engine.run(COVERAGE, **window, segment_overrides=""))
        assert sum(r["members"] for r in covered.to_pylist()) == 5
    finally:
        engine.close()
