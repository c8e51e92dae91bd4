"""The analytics reads of one page of a chain, each run once.

The console's chain page shows five answers (chains, segment flows, core enterprises, loans, a contagion
case); through the service functions one by one they ran eight statements in a row, two of them twice: the
member list (network and contagion) and the supply links (six months for the network, the last three of the
same months for the contagion). Profiled on the medium region the links statement alone cost ~100 ms a run.

`PageReads` is an `Engine` for the service functions: unchanged, they ask it as they ask the real engine, and
it answers from results read once per request. Links of a window inside the widest one the page needs are that
result's rows of those months (the statement groups by month, so the slice is exactly the narrower answer).
Nothing here writes: the service functions still audit each read in the request's session.

Running the page's statements side by side (a thread each; the engine gives each run its own cursor) was
measured and dropped: on two shared cores DuckDB already uses both for one statement, and the page took
294 ms of statements in parallel against 280 ms in a row (medium region, median of 5).

The two transfer scans (supply links, segment flows) group by month and order by it first, so a window's
answer is its months' answers one after another: with a `ResultCache` they are kept **per month** (`monthly`),
any window is assembled from the months held, and only the months missing are read (one statement over their
span). `warm` reads a chain's last months so, run in the background after a load (`jinyu.chain.scheduler`), the
first visitor of a window inside them runs neither scan. Loans by month (`chain_loans`) are kept the same way.
A month's answer is keyed by that month's partition files of the dataset the query scans by month (`MONTHLY`),
so a load of another month leaves it current; with the shared cache they are kept on disk too.

The two scans are read together (`links_and_flows`: `chain_links_and_flows`, one statement whose rows are both
answers, split and kept per month as `monthly` keeps them): the page asks for flows first, and the months of
its links window are read in the same statement. Profiled (benchmarks/bench_chain_statement_split.py), a
statement's fixed part is DuckDB's own work — planning (views' globs and Parquet schemas), scanning the small
datasets and building the member accounts — plus ~4 ms in Python; one statement pays it once and scans the
window's transfers once (links and flows of eight months: 0.65 of the time of two statements, quiet).

Segment flows are read from the member-pair sums (`jinyu.chain.pairs`) when every month to read has current
sums: then `links_and_flows` reads the flows from them and the links alone (`chain_member_links`), and `monthly`
reads missing flow months from them; otherwise the statements over the transfers, as before (same answers).

Loans and credit coverage likewise (`loans_and_borrowers`: `chain_loans_and_borrowers`, the window's loans and
the members who borrowed, per month); the coverage is then counted (`coverage`) from the member list the page
reads anyway and the window's borrowers, so it runs no statement. `PageReads.answer_key` names an answer by its
question and lake files, so the service can hold what it derives from it (a computed month's ranking, a
contagion case: `jinyu.chain.resident`).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping

import pyarrow as pa
import pyarrow.compute as pc

from jinyu.analytics import Engine, FileSet, Query, ResultCache
from jinyu.analytics.results import Key as ResultKey
from jinyu.analytics.results import in_month
from jinyu.chain import definitions, pairs, queries, rules

LINKS = "chain_member_links"
FLOWS = "chain_segment_flows"
LOANS = "chain_loans"
BORROWERS = "chain_member_borrowers"
COVERAGE = "chain_credit_coverage"  # counted from the member list and the window's borrowers (`coverage`)
MEMBERS = "chain_member_list"
LINKS_AND_FLOWS = "chain_links_and_flows"  # both scans in one statement (`links_and_flows`)
LOANS_AND_BORROWERS = "chain_loans_and_borrowers"  # both in one statement (`loans_and_borrowers`)
# Grouped by month and ordered by it first, so a window is its months in a row; each reads the named
# month-partitioned dataset only within its window, so one month's answer depends on that month's files of it
# (and every file of the other datasets it reads): a load of another month leaves it current.
MONTHLY = {LINKS: "transfers", FLOWS: "transfers", LOANS: "loans", BORROWERS: "loans"}
COVERAGE_SCHEMA = pa.schema(
    [("segment", pa.string()), ("members", pa.int64()), ("members_with_credit", pa.int64())]
)
WARM_MONTHS = 12  # the months `warm` reads, ending at the latest month of transfers
Key = tuple[str, tuple[tuple[str, object], ...]]


def _key(name: str, params: Mapping[str, object]) -> Key:
    return name, tuple(sorted(params.items()))


class PageReads:
    """A read-through memo over `engine` for one request (not shared between requests: the lake may grow)."""

    def __init__(
        self, engine: Engine, results: ResultCache | None = None, links: dict[str, object] | None = None
    ) -> None:
        self.engine = engine
        self.results = results
        self.links = links  # the widest links window the page needs: links inside it are read as it, then cut
        self.kind = engine.kind
        self._memo: dict[Key, pa.Table] = {}
        self._lock = threading.Lock()

    def run(self, query_name: str, /, **params: object) -> pa.Table:
        key = _key(query_name, params)
        with self._lock:
            held = self._memo.get(key)
        if held is None and self._within_links(query_name, params):
            assert self.links is not None
            held = self._slice(self.run(LINKS, **self.links), params)
        if held is None:
            held = self._answer(query_name, params)
            with self._lock:
                self._memo[key] = held
        return held

    def _answer(self, query_name: str, params: dict[str, object]) -> pa.Table:
        if self.results is None:
            return self.engine.run(query_name, **params)
        if query_name == FLOWS:
            # The links the page will ask for (same chain) come from the same scan: read them together.
            wide = self.links
            first, last = str(params["from_month"]), str(params["to_month"])
            if wide is not None and wide["chain_code"] == params["chain_code"]:
                first, last = min(first, str(wide["from_month"])), max(last, str(wide["to_month"]))
            links_and_flows(self.engine, self.results, {**params, "from_month": first, "to_month": last})
        if query_name in (LOANS, COVERAGE):  # the window's loans and its borrowing members: one statement
            loans_and_borrowers(self.engine, self.results, params)
        if query_name == COVERAGE:
            counted = self._coverage(params)
            if counted is not None:
                return counted
        if query_name in MONTHLY:
            return monthly(self.engine, self.results, query_name, params)
        key = self.results.key(query_name, params)
        held = self.results.get(key)
        if held is None:
            held = self.engine.run(query_name, **params)
            self.results.put(key, held)
        return held

    def answer_key(self, query_name: str, params: Mapping[str, object]) -> Hashable | None:
        """What names the answer `run(query_name, **params)` gives on the current lake files (its question and
        the files it is read from: per month for the month-grouped queries), or None without shared answers.
        Equal names mean equal answers, so a caller may keep what it derives from one under its name."""
        if self.results is None:
            return None
        if query_name in MONTHLY:
            return tuple(_month_keys(self.results, query_name, params).values())
        return self.results.key(query_name, dict(params))

    def _coverage(self, params: Mapping[str, object]) -> pa.Table | None:
        """`chain_credit_coverage` counted from the chain's member list (as the page's network reads it) and
        the window's borrowing members kept per month; None if the list is not the whole chain (paged)."""
        assert self.results is not None
        members = self.run(
            MEMBERS,
            chain_code=params["chain_code"],
            segment="",
            limit=queries.ALL_MEMBERS,
            offset=0,
            segment_overrides=params["segment_overrides"],
        )
        if members.num_rows and members["total"][0].as_py() != members.num_rows:
            return None
        window = {k: v for k, v in params.items() if k != "segment_overrides"}
        borrowers = monthly(self.engine, self.results, BORROWERS, window)
        return coverage(members, borrowers)

    def run_query(self, query: Query, /, **params: object) -> pa.Table:
        return self.engine.run_query(query, **params)

    def run_over_files(self, query: Query, parts: Mapping[str, FileSet], /, **params: object) -> pa.Table:
        return self.engine.run_over_files(query, parts, **params)

    def close(self) -> None:  # the engine belongs to the app, not to this request
        self._memo.clear()

    def _within_links(self, query_name: str, params: Mapping[str, object]) -> bool:
        """A links window strictly inside the page's widest one (the widest itself is read as it is)."""
        wide = self.links
        return (
            query_name == LINKS
            and wide is not None
            and _key(LINKS, params) != _key(LINKS, wide)
            and params["chain_code"] == wide["chain_code"]
            and str(wide["from_month"]) <= str(params["from_month"])
            and str(params["to_month"]) <= str(wide["to_month"])
        )

    @staticmethod
    def _slice(table: pa.Table, params: Mapping[str, object]) -> pa.Table:
        first, last = str(params["from_month"]), str(params["to_month"])
        return table.filter(
            pc.and_(pc.greater_equal(table["month"], first), pc.less_equal(table["month"], last))
        )


def answer_key(engine: Engine, query_name: str, params: Mapping[str, object]) -> Hashable | None:
    """`PageReads.answer_key` when `engine` is the page's reads, else None (a plain engine names no answer)."""
    return engine.answer_key(query_name, params) if isinstance(engine, PageReads) else None


def for_page(
    engine: Engine, code: str, end: str, failing: str | None, results: ResultCache | None = None
) -> PageReads:
    """The reads of the chain page (`/console/chains`) for one chain and a window ending at `end`: the links of
    the widest window its answers need are read (when first asked for), and narrower ones cut from them; nothing
    is read here, so the services' access checks come first. With `results`
    (`jinyu.analytics.results`), answers computed for an earlier request on the same files are reused."""
    p = definitions.load().parameters
    months = max(p.network_window_months, p.receivable_months if failing else 0)
    return PageReads(
        engine,
        results,
        {"chain_code": code, "from_month": rules.add_months(end, 1 - months), "to_month": end},
    )


def _months(first: str, last: str) -> list[str]:
    return [rules.add_months(first, i) for i in range(rules.months_between(first, last) + 1)]


def monthly(engine: Engine, results: ResultCache, query_name: str, params: Mapping[str, object]) -> pa.Table:
    """A month-grouped query's answer over `params`' window, from its months' answers held in `results`; the
    months missing are read in one statement over their span and each of them kept (empty months too). Each
    month is keyed by its own partition's files of the dataset the query scans by month (`MONTHLY`)."""
    keys = _month_keys(results, query_name, params)
    held = {m: results.get(k) for m, k in keys.items()}
    missing = [m for m, table in held.items() if table is None]
    if missing:
        span = _months(missing[0], missing[-1])
        name = query_name
        if query_name == FLOWS:  # from the member-pair sums when they are current for the span
            name = pairs.flows_query(engine, results.lake_root, span[0], span[-1])
        read = engine.run(name, **{**params, "from_month": span[0], "to_month": span[-1]})
        for m in span:
            held[m] = read.filter(pc.equal(read["month"], m))
            results.put(keys[m], held[m])
    return pa.concat_tables([held[m] for m in keys]).combine_chunks()


def _month_keys(results: ResultCache, query_name: str, params: Mapping[str, object]) -> dict[str, ResultKey]:
    """The key of each month of `params`' window of a month-grouped query (as `monthly` keeps them)."""
    first, last = str(params["from_month"]), str(params["to_month"])
    whole = results.key(query_name, dict(params))  # the files are listed once, for every month's key
    return {
        m: in_month(whole, {**params, "from_month": m, "to_month": m}, MONTHLY[query_name], m)
        for m in _months(first, last)
    }


def links_and_flows(engine: Engine, results: ResultCache, params: Mapping[str, object]) -> None:
    """Keep in `results` the supply links and segment flows of each month of `params`' window (flows' parameters:
    chain code, window, `$segment_overrides`), as `monthly` keeps them, reading the months either lacks in one
    statement (`chain_links_and_flows`: the window's transfers scanned once for both). The links' answer does
    not depend on the overrides (they move members between segments, never in or out of the chain)."""
    flow_keys = _month_keys(results, FLOWS, params)
    link_keys = _month_keys(results, LINKS, {k: v for k, v in params.items() if k != "segment_overrides"})
    missing = [m for m in flow_keys if results.get(flow_keys[m]) is None or results.get(link_keys[m]) is None]
    if not missing:
        return
    span = _months(missing[0], missing[-1])
    if pairs.flows_query(engine, results.lake_root, span[0], span[-1]) == pairs.FROM_PAIRS:
        # Flows from the member-pair sums (a fraction of the scan); the links alone scan the transfers.
        monthly(engine, results, FLOWS, {**params, "from_month": span[0], "to_month": span[-1]})
        links = {k: v for k, v in params.items() if k != "segment_overrides"}
        monthly(engine, results, LINKS, {**links, "from_month": span[0], "to_month": span[-1]})
        return
    both = engine.run(LINKS_AND_FLOWS, **{**params, "from_month": span[0], "to_month": span[-1]})
    for part, keys, names in (
        ("links", link_keys, ["month", "payer", "payee"]),
        ("flows", flow_keys, ["month", "from_segment", "to_segment"]),
    ):
        rows = both.filter(pc.equal(both["part"], part)).drop_columns(["part"])
        rows = rows.rename_columns([*names, "txn_count", "total_amount"])
        for m in span:
            results.put(keys[m], rows.filter(pc.equal(rows["month"], m)))


def loans_and_borrowers(engine: Engine, results: ResultCache, params: Mapping[str, object]) -> None:
    """Keep in `results` the loans (`chain_loans`) and the borrowing members (`chain_member_borrowers`) of each
    month of `params`' window (loans' parameters: chain code, window, `$segment_overrides`), as `monthly`
    keeps them, reading the months either lacks in one statement (`chain_loans_and_borrowers`). The borrowers'
    answer does not depend on the overrides (they move members between segments, never in or out)."""
    loan_keys = _month_keys(results, LOANS, params)
    borrower_keys = _month_keys(
        results, BORROWERS, {k: v for k, v in params.items() if k != "segment_overrides"}
    )
    missing = [
        m for m in loan_keys if results.get(loan_keys[m]) is None or results.get(borrower_keys[m]) is None
    ]
    if not missing:
        return
    span = _months(missing[0], missing[-1])
    both = engine.run(LOANS_AND_BORROWERS, **{**params, "from_month": span[0], "to_month": span[-1]})
    loans = both.filter(pc.equal(both["part"], "loans")).drop_columns(["part", "uscc"])
    borrowers = both.filter(pc.equal(both["part"], "borrowers")).select(["month", "uscc"])
    for rows, keys in ((loans, loan_keys), (borrowers, borrower_keys)):
        for m in span:
            results.put(keys[m], rows.filter(pc.equal(rows["month"], m)))


def coverage(members: pa.Table, borrowers: pa.Table) -> pa.Table:
    """`chain_credit_coverage` of a window from the chain's whole member list (`chain_member_list`, the same
    `$segment_overrides`) and its borrowers (`chain_member_borrowers`, the same window): per effective segment,
    in order, the members and how many of them are among the borrowers."""
    borrowed = set(borrowers["uscc"].to_pylist())
    counts: dict[str | None, list[int]] = {}
    for uscc, segment in zip(members["uscc"].to_pylist(), members["segment"].to_pylist(), strict=True):
        c = counts.setdefault(segment, [0, 0])
        c[0] += 1
        c[1] += uscc in borrowed
    order = sorted(counts, key=lambda s: (s is None, s or ""))  # as ORDER BY segment (nulls last)
    return pa.table(
        [order, [counts[s][0] for s in order], [counts[s][1] for s in order]], schema=COVERAGE_SCHEMA
    )


def warm(engine: Engine, results: ResultCache, overrides: Mapping[str, str], end: str) -> list[str]:
    """Keep in `results` the supply links, segment flows, loans and borrowers of each chain of `overrides` ({code: its
    `$segment_overrides`, as the page passes them}) for the `WARM_MONTHS` months ending at `end`; the months.
    Months already held (in memory or on disk) for the current files are not read again."""
    months = _months(rules.add_months(end, 1 - WARM_MONTHS), end)
    window = {"from_month": months[0], "to_month": months[-1]}
    for code, segment_overrides in overrides.items():
        segmented = {"chain_code": code, **window, "segment_overrides": segment_overrides}
        links_and_flows(engine, results, segmented)
        loans_and_borrowers(engine, results, segmented)
    return months
