"""The serving engine: DuckDB with the lake's smaller datasets held as in-memory tables ("hot tables").

Per-request statements (one loan, its related parties, the accounts shown as evidence) read registries of
up to a few million rows. Over Parquet views each statement pays for listing, opening and decoding files
(tens to hundreds of milliseconds at a million accounts); over in-memory tables sorted by their lookup keys
the same registered SQL answers in milliseconds. The big datasets (transfers and their mirror) stay views:
serving processes answer hops from the resident transfer index (`jinyu.analytics.flowindex`).

A table is a copy of its dataset's files at one moment: before each run the engine compares the files of
the datasets the query reads (names and sizes; the lake only adds files) with those it copied, and copies a
dataset again when they differ, so a new load is seen by the next statement, as with views.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import duckdb
import pyarrow as pa

from jinyu.analytics import duck, layout
from jinyu.analytics.engine import DuckDBEngine
from jinyu.analytics.errors import missing_dataset
from jinyu.analytics.listing import Files, dataset_files
from jinyu.analytics.registry import Query
from jinyu.analytics.resident import Grouped

# Datasets too large to copy (and not needed per request when hops come from the resident index).
VIEW_ONLY = frozenset({"transfers", "transfers_by_counterparty"})


class ServingEngine(DuckDBEngine):
    """`DuckDBEngine` whose datasets, except `VIEW_ONLY`, are in-memory tables refreshed when files change."""

    kind = "duckdb"
    SORT: ClassVar[dict[str, tuple[str, ...]]] = {
        "accounts": ("owner_id", "account_no"),
        "enterprises": ("uscc",),
        "shareholders": ("uscc", "holder_id"),
        "loans": ("month", "loan_id"),
        "loan_guarantees": ("loan_id",),
        "related_parties": ("owner_uscc",),
        "tax_monthly": ("month", "uscc"),
        "headcount_monthly": ("month", "uscc"),
        # The credit card reads these by enterprise.
        "patents": ("uscc",),
        "judicial": ("uscc",),
        "registration_changes": ("uscc",),
        "tax_credit_ratings": ("uscc",),
        "trademarks": ("uscc",),
        "copyrights": ("uscc",),
        "dishonest_debtors": ("uscc",),
        "admin_penalties": ("uscc",),
        "source_coverage": ("uscc",),
    }

    def __init__(self, lake_root: Path, *, view_only: frozenset[str] = VIEW_ONLY) -> None:
        super().__init__(lake_root)
        self.view_only = view_only
        self._copied: dict[str, Files] = {}
        self._refresh = threading.Lock()
        self._grouped: dict[tuple[str, str], Grouped] = {}
        self._grouping = threading.Lock()

    def grouped(self, query: Query, key: str) -> Grouped:
        """The bulk query's result held in memory by `key` (`jinyu.analytics.resident`), rebuilt when the
        files of the datasets it reads changed: per-key rows without a statement per request."""
        files = {d: self._files(d) for d in sorted(query.datasets)}
        held = self._grouped.get((query.name, key))
        if held is not None and held.files == files:
            return held
        with self._grouping:  # one build at a time; concurrent requests wait for it, then share it
            held = self._grouped.get((query.name, key))
            if held is None or held.files != files:
                held = Grouped.build(self.run_query(query), key, files)
                self._grouped[(query.name, key)] = held
        return held

    def run_query(self, query: Query, /, **params: object) -> pa.Table:
        # `run(name)` comes here too (DuckDBEngine.run calls run_query): every statement sees fresh copies.
        self._fresh(query.datasets, query.optional)
        return super().run_query(query, **params)

    def load(self, datasets: frozenset[str] | None = None) -> None:
        """Copy the datasets now (all the lake's by default), e.g. when a serving process starts."""
        self._fresh(datasets if datasets is not None else frozenset(layout.dataset_names(self.lake_root)))

    def _fresh(self, datasets: frozenset[str], optional: Mapping[str, pa.Schema] | None = None) -> None:
        stale = [d for d in sorted(datasets - self.view_only) if self._copied.get(d) != self._files(d)]
        if not stale:
            return
        with self._refresh:  # one copy at a time; a statement never sees half of a refresh
            cur = self._connection(frozenset()).cursor()
            try:
                for dataset in stale:
                    files = self._files(dataset)
                    if self._copied.get(dataset) == files:
                        continue
                    self._copy(cur, dataset, (optional or {}).get(dataset))
                    self._copied[dataset] = files
                    self._views.add(dataset)
            finally:
                cur.close()

    def _files(self, dataset: str) -> Files:
        return dataset_files(self.lake_root, dataset)

    def _create_view(self, con: duckdb.DuckDBPyConnection, dataset: str) -> None:
        if dataset in self.view_only:
            super()._create_view(con, dataset)
        else:
            self._copy(con, dataset)

    def _copy(self, con: duckdb.DuckDBPyConnection, dataset: str, empty: pa.Schema | None = None) -> None:
        if not layout.data_files(self.lake_root, dataset):
            if empty is None:
                raise missing_dataset(dataset, self.lake_root)
            duck.create_empty(con, dataset, empty, table=True)  # an optional dataset without files yet
            return
        scan = duck.scan_sql(self.lake_root, dataset)
        columns = {str(row[0]) for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
        order = [duck.quote_ident(c) for c in self.SORT.get(dataset, ()) if c in columns]
        clause = f" ORDER BY {', '.join(order)}" if order else ""
        # Sorted by the lookup keys so that min/max statistics skip most of a table; CREATE OR REPLACE swaps
        # the table in one transaction: concurrent statements see the old rows or the new ones.
        con.execute(f"CREATE OR REPLACE TABLE {duck.quote_ident(dataset)} AS SELECT * FROM {scan}{clause}")


_SHARED_LOCK = threading.Lock()
_SHARED: dict[str, ServingEngine] = {}


def shared_engine(lake_root: Path) -> ServingEngine:
    """The process's serving engine of this lake; one at a time (a serving process reads one lake)."""
    key = str(Path(lake_root))
    with _SHARED_LOCK:
        engine = _SHARED.get(key)
        if engine is None:
            _SHARED.clear()  # another lake's copies go (statements running on them finish first)
            engine = _SHARED[key] = ServingEngine(Path(lake_root))
        return engine
