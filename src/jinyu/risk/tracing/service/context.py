"""Where a trace's context comes from: the per-loan statements, or the resident context (no SQL per loan).

Around the hops, tracing needs the loan, the caller's bank tree, the borrower's related parties (derived,
declared, control chains), shells and the evidence accounts' attributes. Over the lake each is a statement
per loan (tens of milliseconds each, more than all the hops on the resident index). A serving process keeps
them resident: `ResidentContext` reads the small datasets once per lake version (`tables`), built in the
background next to the transfer index, and answers each lookup exactly as the statement does — the same
rows, values and order (tests hold it to the SQL on the golden lake and on every loan of a generated region).
The rows' meaning lives in `queries`/`related_sql`; this is their resident evaluation, nothing more.

`lookups(stores)` picks the resident context when built, the statements otherwise (and while it builds).
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from jinyu.analytics import DuckDBEngine, Engine, builds, flowfiles
from jinyu.analytics.listing import Files
from jinyu.risk.tracing import queries, refunds
from jinyu.risk.tracing.errors import LoanNotFound
from jinyu.risk.tracing.related import RelatedSet
from jinyu.risk.tracing.related_sql import LINKED_RANKS, RANK
from jinyu.risk.tracing.rules import CONTROL_SHARE
from jinyu.risk.tracing.service import kept, refund, shells
from jinyu.risk.tracing.service.balances import Balances
from jinyu.risk.tracing.service.base import LISTED, Stores, data_version, utc
from jinyu.risk.tracing.service.lake import Shells, context_sets
from jinyu.risk.tracing.service.tables import Row, Tables, account_rows, load

log = logging.getLogger(__name__)

_D, _S, _G = "derived:enterprises", "derived:shareholders", "derived:loan_guarantees"
_LINKED = {int(r) for r in LINKED_RANKS.split(", ")}
_EAST8 = dt.timedelta(hours=8)
_NO_ROW: Mapping[str, Any] = {}
# What selects a batch's loans: analyses with the same values trace the same loans.
_BATCH_KEYS = ("root_code", "loans_from_month", "loans_to_month", "disbursed_from", "disbursed_to")
Sets = dict[str, tuple[RelatedSet, Shells]]  # loan id -> its related set and shells (`lake.context_sets`)


class Lookups(Protocol):
    """The per-loan lookups of tracing, with the signatures of the `queries` functions they stand for."""

    def loan(self, loan_id: str, root_code: str) -> dict[str, Any] | None: ...
    def bank_tree(self, root_code: str) -> set[str]: ...
    def batch_loans(self, params: Mapping[str, object]) -> list[dict[str, Any]]: ...
    def context(self, mode: str, params: Mapping[str, object], *, batch: bool) -> list[dict[str, Any]]: ...
    def context_sets(self, params: Mapping[str, Mapping[str, object]]) -> dict[str, Sets]: ...
    def accounts(self, account_nos: list[str]) -> list[dict[str, Any]]: ...
    def pair_movements(
        self, pairs: list[tuple[str, str]], window: tuple[dt.datetime, dt.datetime], months: tuple[str, str]
    ) -> list[refunds.Movement]: ...


class SqlLookups:
    """The statements of `queries` on an engine (the lake's, or the serving engine)."""

    def __init__(self, engine: Engine, lake: Engine | None = None) -> None:
        self.engine, self.lake = engine, lake if lake is not None else engine

    def loan(self, loan_id: str, root_code: str) -> dict[str, Any] | None:
        return queries.loan(self.engine, loan_id, root_code)

    def bank_tree(self, root_code: str) -> set[str]:
        return queries.bank_tree(self.engine, root_code)

    def batch_loans(self, params: Mapping[str, object]) -> list[dict[str, Any]]:
        return queries.batch_loans(self.engine, params)

    def context(self, mode: str, params: Mapping[str, object], *, batch: bool) -> list[dict[str, Any]]:
        return queries.context(self.engine, mode, params, batch=batch)

    def context_sets(self, params: Mapping[str, Mapping[str, object]]) -> dict[str, Sets]:
        """Per analysis (mode -> its batch parameters), the batch's related sets and shells: one statement each."""
        return {mode: context_sets(self.context(mode, p, batch=True)) for mode, p in params.items()}

    def accounts(self, account_nos: list[str]) -> list[dict[str, Any]]:
        return queries.accounts(self.engine, account_nos)

    def pair_movements(
        self, pairs: list[tuple[str, str]], window: tuple[dt.datetime, dt.datetime], months: tuple[str, str]
    ) -> list[refunds.Movement]:
        """One statement (`tracing_pair_transfers`) on the lake's engine: transfers are not in the serving one."""
        return refund.pair_movements(self.lake, pairs, window, months)


class ResidentContext:
    """The lookups answered from memory (see the module docstring)."""

    def __init__(self, tables: Tables, build_seconds: float = 0.0) -> None:
        self.t, self.build_seconds = tables, build_seconds

    @property
    def balances(self) -> Balances:
        """Balances of record, for pro rata's balance pool on the resident index."""
        return self.t.balances

    def loan(self, loan_id: str, root_code: str) -> dict[str, Any] | None:
        tree = self.t.tree(root_code)
        found = [r for r in self.t.loan_by_id.get(loan_id, ()) if r["bank_code"] in tree]
        return dict(found[0]) if found else None

    def bank_tree(self, root_code: str) -> set[str]:
        return self.t.tree(root_code)

    def batch_loans(self, params: Mapping[str, object]) -> list[dict[str, Any]]:
        return [dict(r) for r in self._loans(params, batch=True)]

    def accounts(self, account_nos: list[str]) -> list[dict[str, Any]]:
        return account_rows(self.t, account_nos)

    def pair_movements(
        self, pairs: list[tuple[str, str]], window: tuple[dt.datetime, dt.datetime], months: tuple[str, str]
    ) -> list[refunds.Movement]:
        return self.t.reversals.movements(pairs, window, months)

    def context(self, mode: str, params: Mapping[str, object], *, batch: bool) -> list[dict[str, Any]]:
        tree = self.t.tree(str(params["root_code"]))
        loans = self._loans(params, batch=batch)
        owners = {str(loan["loan_id"]): self._related(loan, tree) for loan in loans}
        rows = [
            _row("related", loan_id, a, rank, source, 0, 0)
            for loan_id, found in owners.items()
            for owner, rank, source in found
            for a in self.t.accounts_of.get(owner, ())
        ]
        if mode == "misuse":
            rows += self._shells(loans, owners, params)
        rows.sort(key=_order)
        return rows

    def context_sets(self, params: Mapping[str, Mapping[str, object]]) -> dict[str, Sets]:
        """`lake.context_sets(self.context(mode, p, batch=True))` per analysis (mode -> its batch parameters),
        made without the rows: the loans and their related parties are found once for every analysis of the
        same loans (they do not depend on it), each related set is made once and shared by the analyses."""
        out: dict[str, Sets] = {}
        done: tuple[tuple[object, ...], list[Row], dict[str, Any], dict[str, RelatedSet]] | None = None
        for mode, p in params.items():
            key = tuple(p[k] for k in _BATCH_KEYS)
            if done is None or done[0] != key:
                tree = self.t.tree(str(p["root_code"]))
                loans = self._loans(p, batch=True)
                owners = {str(loan["loan_id"]): self._related(loan, tree) for loan in loans}
                related = {
                    k: r for k, found in owners.items() if (r := _related_set(self.t, found)) is not None
                }
                done = (key, loans, owners, related)
            _key, loans, owners, related = done
            found = {}
            if mode == "misuse":
                found = shells.by_loan(self.t, shells.flags(self.t, loans, _linked(owners), p))
            out[mode] = {
                loan_id: (related.get(loan_id) or RelatedSet(), found.get(loan_id, {}))
                for loan_id in owners
                if loan_id in related or loan_id in found
            }
        return out

    def _loans(self, params: Mapping[str, object], *, batch: bool) -> list[Row]:
        tree = self.t.tree(str(params["root_code"]))
        if not batch:
            loan_id, month = str(params["loan_id"]), params["loan_month"]
            return [
                r
                for r in self.t.loan_by_id.get(loan_id, ())
                if r["loan_month"] == month and r["bank_code"] in tree
            ]
        low, high = params["loans_from_month"], params["loans_to_month"]
        since, until = params["disbursed_from"], params["disbursed_to"]
        return [
            r
            for r in self.t.loans
            if low <= r["loan_month"] <= high
            and since <= r["disbursed_at"] < until
            and r["bank_code"] in tree
        ]

    def _related(self, loan: Row, tree: set[str]) -> list[tuple[str, int, str | None]]:
        """`related_sql.RELATED`'s rel_owner for one loan: (owner, rank, source), duplicates kept."""
        t = self.t
        out: list[tuple[str, int, str | None]] = [
            (g, RANK["guarantor"], _G) for g in t.guarantors.get(loan["loan_id"], ())
        ]
        b = t.enterprise.get(loan["borrower_uscc"])
        if b is None:
            return [o for o in out if o[0] is not None]
        uscc, rep = b["uscc"], b["legal_rep_id"]
        on_day = (utc(loan["disbursed_at"]) + _EAST8).date()
        up1 = _controlled_by(t.holders, [uscc], "holder_id")
        up2 = _controlled_by(t.holders, up1, "holder_id")
        up3 = _controlled_by(t.holders, up2, "holder_id")
        down1 = _controlled_by(t.holdings, [uscc], "uscc")
        down2 = _controlled_by(t.holdings, down1, "uscc")
        holders, holdings = t.holders.get(uscc, ()), t.holdings.get(uscc, ())
        out += [(uscc, RANK["own"], _D), (rep, RANK["legal_rep"], _D)]
        out += [(s["holder_id"], RANK["shareholder"], _S) for s in holders]
        out += [(s["uscc"], RANK["invested"], _S) for s in holdings]
        out += [(e, RANK["same_legal_rep"], _D) for e in _others(t.by_rep, rep, uscc)]
        out += [(s["uscc"], RANK["rep_invested"], _S) for s in _held(t.holdings, rep) if s["uscc"] != uscc]
        out += [
            (s2["uscc"], RANK["sister"], _S)
            for s1 in holders
            if s1["holder_type"] == "enterprise"
            for s2 in _held(t.holdings, s1["holder_id"])
            if s2["uscc"] is not None and s2["uscc"] != uscc
        ]
        out += [(e, RANK["shared_address"], _D) for e in _others(t.by_address, b["address"], uscc)]
        out += [(e, RANK["shared_phone"], _D) for e in _others(t.by_phone, b["phone"], uscc)]
        out += [(owner, RANK["declared"], source) for owner, source in self._declared(uscc, on_day, tree)]
        chain = up2 + up3 + down2 + _controlled_by(t.holdings, down2, "uscc")
        chain += [u for u in _controlled_by(t.holdings, up1 + up2 + up3, "uscc") if u != uscc]
        out += [(c, RANK["control_chain"], _S) for c in chain]
        return [o for o in out if o[0] is not None]

    def _declared(self, uscc: str, on_day: dt.date, tree: set[str]) -> list[tuple[str, str | None]]:
        def valid(r: Row) -> bool:
            return (
                r["valid_from"] is not None
                and r["valid_from"] <= on_day
                and (r["valid_to"] is None or r["valid_to"] >= on_day)
                and (r["bank_code"] is None or r["bank_code"] in tree)
            )

        def source(r: Row) -> str | None:
            parts = (r["relation"], r["source"])
            return None if None in parts else f"declared:{parts[0]}:{parts[1]}"

        found = [(r["related_id"], source(r)) for r in self.t.declared_by_owner.get(uscc, ()) if valid(r)]
        found += [(r["owner_uscc"], source(r)) for r in self.t.declared_by_related.get(uscc, ()) if valid(r)]
        return found

    def _shells(
        self,
        loans: list[Row],
        owners: Mapping[str, list[tuple[str, int, str | None]]],
        p: Mapping[str, object],
    ) -> list[Row]:
        """`queries._SHELLS` for the given loans: companies inactive around the loan, new or linked."""
        found = shells.flags(self.t, loans, _linked(owners), p)
        return [
            _row("shell", loan_id, a, None, None, is_new, is_linked)
            for loan_id, a, is_new, is_linked in shells.rows(self.t, found)
        ]


def _related_set(t: Tables, found: list[tuple[str, int, str | None]]) -> RelatedSet | None:
    """`RelatedSet.of` the related rows of one loan (None: no row), without making them: the same accounts,
    ranks and sources in the same order (the statement's: account, rank, source with NULLs last; ties in the
    order found), so the same source per (account, rank) and the same owner name and category win."""
    rows = sorted(
        (a["account_no"], rank, source is None, source or "", seq, a)
        for seq, (a, rank, source) in enumerate(
            (a, rank, source) for owner, rank, source in found for a in t.accounts_of.get(owner, ())
        )
    )
    if not rows:
        return None
    out = RelatedSet()
    for account_no, rank, no_source, source, _seq, a in rows:
        account = str(account_no)
        out.rank[account] = min(rank, out.rank.get(account, rank))
        out.relations[account].add(rank)
        out.source.setdefault((account, rank), str((None if no_source else source) or "derived"))
        out.owner_name[account] = a.get("owner_name")
        out.category[account] = a.get("category")
    return out


def _linked(owners: Mapping[str, list[tuple[str, int, str | None]]]) -> list[tuple[str, str]]:
    """(loan id, company) of the borrowers' companies linked by representative, address or phone, in order."""
    return [(loan_id, o) for loan_id, found in owners.items() for o, rank, _ in found if rank in _LINKED]


def _controlled_by(index: Mapping[str, Sequence[Row]], ids: list[str], take: str) -> list[str]:
    """One step along holdings of at least CONTROL_SHARE percent (duplicates kept, as the joins do)."""
    return [
        s[take]
        for i in ids
        if i is not None
        for s in index.get(i, ())
        if s["share_ratio"] is not None and s["share_ratio"] >= CONTROL_SHARE and s[take] is not None
    ]


def _held(index: Mapping[str, Sequence[Row]], holder: str | None) -> list[Row]:
    return list(index.get(holder, ())) if holder is not None else []


def _others(index: Mapping[str, Sequence[str]], key: str | None, uscc: str) -> list[str]:
    return [e for e in index.get(key, ()) if e != uscc] if key is not None else []


def _row(kind: str, loan_id: str, a: Row, rank: int | None, source: str | None, new: int, linked: int) -> Row:
    return {
        "row_type": kind,
        "loan_id": loan_id,
        "account_no": a["account_no"],
        "rel_rank": rank,
        "rel_source": source,
        "owner_id": a["owner_id"],
        "owner_type": a["owner_type"],
        "owner_name": a["owner_name"],
        "category": a["category"],
        "shell_new": new,
        "shell_linked": linked,
    }


def _order(r: Row) -> tuple[Any, ...]:
    # ORDER BY loan_id, row_type, account_no, rel_rank, rel_source (NULLs last, DuckDB's default)
    rank, source = r["rel_rank"], r["rel_source"]
    return (
        r["loan_id"],
        r["row_type"],
        r["account_no"],
        rank is None,
        rank or 0,
        source is None,
        source or "",
    )


# -- the process's resident context ------------------------------------------------------------------------


class ResidentContexts:
    """At most one resident context per process, for one (lake root, data version); built in the background
    on demand (as `FlowIndexes`), replaced when a load changes the datasets it reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, str] | None = None
        self._context: ResidentContext | None = None
        self._building: tuple[str, str] | None = None
        self._failed: tuple[str, str] | None = None
        self._thread: threading.Thread | None = None

    def get(self, lake_root: Path, listing: Mapping[str, Files] | None = None) -> ResidentContext | None:
        """The context of the lake's current files (`listing`: the request's listing, None: list now)."""
        version = data_version(lake_root, LISTED, listing).fingerprint
        key = (str(lake_root), version)
        with self._lock:
            if self._key == key and self._context is not None:
                return self._context
            if self._building is None and self._failed != key:
                tables = kept.read(Path(key[0]), key[1])  # an earlier process's build of this version
                if tables is not None:
                    settle()
                    self._key, self._context = key, ResidentContext(tables)
                    return self._context
                self._building, self._key, self._context = key, None, None
                self._thread = builds.start("jinyu-tracing-context", lambda run: self._build(key, run)).thread
        return None

    def wait(self, timeout: float | None = None) -> bool:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _build(self, key: tuple[str, str], run: builds.Build) -> None:
        root = Path(key[0])
        try:
            # Another process building this version's context (a second worker, a load's preparation): wait
            # for it, then read back what it kept rather than build the same tables at the same time.
            with flowfiles.building(root, kept.KIND, run):
                tables = kept.read(root, key[1])
                if tables is not None:
                    self._done(key, ResidentContext(tables), built=False)
                    return
                started = time.perf_counter()
                engine = DuckDBEngine(root)
                run.attach(engine)
                try:
                    context = ResidentContext(load(engine))
                    run.check()
                finally:
                    run.detach(engine)
                    engine.close()
                context.build_seconds = round(time.perf_counter() - started, 2)
                self._done(key, context, built=True)
        except Exception:
            if run.cancelled:  # interrupted by the exit: not a failure of the build
                log.info("tracing context build cancelled", extra={"lake": key[0]})
            else:
                log.exception("tracing context build failed", extra={"lake": key[0]})
            with self._lock:
                self._building, self._failed = None, None if run.cancelled else key

    def _done(self, key: tuple[str, str], context: ResidentContext, *, built: bool) -> None:
        current = data_version(Path(key[0]), LISTED).fingerprint == key[1]
        settle()
        with self._lock:
            self._building = None
            if current:
                self._key, self._context = key, context
        if not built:
            log.info("tracing context read back after another process built it", extra={"lake": key[0]})
            return
        log.info("tracing context built", extra={"seconds": context.build_seconds})
        if current:  # after it serves here: the next process (a restart, another worker) reads it back
            kept.keep(Path(key[0]), key[1], context.t)


def settle() -> None:
    """A server process froze its start-up objects (`app.quiet_collector`) so that full collections, which stop
    every thread, do not walk them. The resident context arrives after that (built in the background, or read
    back at start): ~10^6 tuples and dicts of rows on the large region, walked by every full collection (a
    1.2 s pause seen). In such a process (it has frozen objects) the context joins them once it is ready,
    with whatever else is alive at that moment (reference counting still frees those; only a cycle among
    them would stay, once per data version). Other processes (tests, tools) never freeze."""
    if gc.get_freeze_count() > 0:
        gc.freeze()


_SHARED = ResidentContexts()


def shared_contexts() -> ResidentContexts:
    """The process's resident context (serving processes: warmed with the transfer index at start)."""
    return _SHARED


def resident_context(stores: Stores) -> ResidentContext | None:
    """The resident context of the stores' lake: only in serving processes (those with resident indexes)."""
    if stores.contexts is not None:
        return stores.contexts.get(stores.lake_root, stores.listing)
    if stores.flows is None:
        return None
    return _SHARED.get(stores.lake_root, stores.listing)


def lookups(stores: Stores) -> Lookups:
    resident = resident_context(stores)
    return resident if resident is not None else SqlLookups(stores.lookups, stores.engine)


def balances_of(lookup: Lookups) -> Balances | None:
    """The resident balances of record when the lookups are resident (None: the balance pool uses the lake)."""
    return lookup.balances if isinstance(lookup, ResidentContext) else None


def find_loan(stores: Stores, loan_id: str, root: str) -> dict[str, Any]:
    loan = lookups(stores).loan(loan_id, root)
    if loan is None:
        raise LoanNotFound(detail=loan_id)
    return loan
