"""A stored month ranked from its links' dense node ids (`jinyu.chain.id_links`, issue 16): the ids a build
writes, a hand-computed ranking, equality to the bit with the ranking from names, and builds made before the
ids (a lake whose files lack them) still read and ranked the old way."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.chain import definitions, id_links, network, resident, service, stored
from jinyu.chain.definitions import Parameters
from tests.chain.lake import U, rows, write
from tests.chain.test_stored_network import Counting

D = Decimal
P: Parameters = definitions.load().parameters
CHAINS = [c.code for c in definitions.load().chains]


def _links(rows_: list[tuple[str, str, str, int, int]]) -> pa.Table:
    return pa.table(
        {
            "payer": pa.array([r[0] for r in rows_], pa.string()),
            "payee": pa.array([r[1] for r in rows_], pa.string()),
            "weight": pa.array([D(r[2]) for r in rows_], pa.decimal128(38, 2)),
            "payer_id": pa.array([r[3] for r in rows_], pa.int32()),
            "payee_id": pa.array([r[4] for r in rows_], pa.int32()),
        }
    )


def test_a_hand_computed_ranking_from_ids() -> None:
    # A pays B 1.00 and C 3.00. Payer → payee, B and C dangling (their rank spread evenly), d = 0.85:
    # p_A = 1/(3+d), p_B = (1 + d/4)/(3+d), p_C = (1 + 3d/4)/(3+d). Reversed (B → A, C → A, A dangling):
    # p_A = (1+2d)/(3+2d), p_B = p_C = 1/(3+2d).
    links = id_links.from_table(_links([("A", "B", "1.00", 0, 1), ("A", "C", "3.00", 0, 2)]))
    assert links is not None and links.names.to_pylist() == ["A", "B", "C"]
    assert links.fen.tolist() == [100, 300]
    by = {c.uscc: c for c in id_links.centrality(links, betweenness_max_nodes=10)}
    d = 0.85
    assert [by[u].pagerank_supplier for u in "ABC"] == pytest.approx(
        [1 / (3 + d), (1 + d / 4) / (3 + d), (1 + 3 * d / 4) / (3 + d)], abs=1e-12
    )
    assert [by[u].pagerank_buyer for u in "ABC"] == pytest.approx(
        [(1 + 2 * d) / (3 + 2 * d), 1 / (3 + 2 * d), 1 / (3 + 2 * d)], abs=1e-12
    )
    assert [by[u].betweenness for u in "ABC"] == [0.0, 0.0, 0.0]  # no path passes through anyone
    # Money as the Decimal sums give it: 0 (no exponent) for who pays nothing, two places otherwise.
    assert [(repr(by[u].paid), repr(by[u].received)) for u in "ABC"] == [
        ("Decimal('4.00')", "Decimal('0')"),
        ("Decimal('0')", "Decimal('1.00')"),
        ("Decimal('0')", "Decimal('3.00')"),
    ]


def test_links_whose_ids_are_not_dense_ids_in_uscc_order_are_refused() -> None:
    assert id_links.from_table(_links([("A", "B", "1.00", 1, 0)])) is None  # B before A
    assert id_links.from_table(_links([("A", "C", "1.00", 0, 2)])) is None  # id 1 missing
    assert (
        id_links.from_table(_links([("A", "B", "1.00", 0, 1), ("C", "A", "1.00", 1, 0)])) is None
    )  # 1 twice
    unsorted = id_links.from_table(_links([("B", "A", "2.00", 1, 0), ("A", "B", "1.00", 0, 1)]))
    # Taken; `rank_arrays` sorts them.
    assert unsorted is not None and unsorted.names.to_pylist() == ["A", "B"]


def test_ids_equal_names_to_the_bit_on_a_random_network() -> None:
    """2,000 nodes, 16k links with odd fen, betweenness computed: the ids path and `network.centrality` from a
    dict in arbitrary order give the same floats (`==`) and the same Decimals (`repr`)."""
    rng = np.random.default_rng(7)
    n, m = 2000, 16000
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    fen = rng.integers(0, 10**9, m)
    names = [f"91{i:016d}" for i in range(n)]
    pairs = {(names[x], names[y]): D(int(f)).scaleb(-2) for x, y, f in zip(a, b, fen, strict=True) if x != y}
    ordered = sorted(pairs)
    index = {u: i for i, u in enumerate(sorted({u for p in pairs for u in p}))}
    table = _links([(x, y, str(pairs[(x, y)]), index[x], index[y]) for x, y in ordered])
    links = id_links.from_table(table)
    assert links is not None
    from_ids = sorted(id_links.centrality(links, 2000), key=lambda c: c.uscc)
    shuffled = dict(sorted(pairs.items(), key=lambda kv: hash(kv[0])))
    from_names = sorted(network.centrality(shuffled, 2000), key=lambda c: c.uscc)
    assert from_ids == from_names and repr(from_ids) == repr(from_names)


def test_the_build_writes_dense_ids_in_uscc_order(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    write(lake, rows())
    engine = DuckDBEngine(lake.root)
    try:
        stored.build_month(engine, lake, "2024-03", CHAINS, P)
        stamp = stored.current_stamp(engine, "new_display", "2024-03", P)
        assert stamp is not None
        table = stored.stored_id_links(engine, lake.root, "new_display", "2024-03", stamp)
        assert table is not None
        # By hand (tests/chain/lake.py): six links among c, d1, m1, m2, r1 and x, ids by USCC.
        order = sorted(U[k] for k in ("c", "d1", "m1", "m2", "r1", "x"))
        got = list(
            zip(
                *(table.column(n).to_pylist() for n in ("payer", "payee", "payer_id", "payee_id")),
                strict=True,
            )
        )
        assert len(got) == 6
        assert all((order.index(a), order.index(b)) == (i, j) for a, b, i, j in got)
        # The build's file itself is in the ids' order (the statement reads it in file order, no ORDER BY).
        written = pq.read_table(lake.root / stored.DATASET / "month=2024-03").filter(
            (pc.field("chain_code") == "new_display") & pc.field("payer_id").is_valid()
        )
        ids = list(
            zip(written.column("payer_id").to_pylist(), written.column("payee_id").to_pylist(), strict=True)
        )
        assert len(ids) == 6 and ids == sorted(ids)
        marker = engine.run("chain_network_stored", chain_code="new_display", as_of_month="2024-03")
        assert marker.num_rows == 7  # the links and the marker row (its ids null, not read as a link)
    finally:
        engine.close()


def _old_build(lake: Lake, month: str) -> None:
    """A build as written before the ids existed: the names-only schema."""
    built_at = dt.datetime(2024, 4, 1, tzinfo=dt.UTC)
    table = pa.table(
        {
            "as_of_month": [month] * 2,
            "chain_code": ["new_display"] * 2,
            "payer": [U["c"], None],
            "payee": [U["m1"], None],
            "weight": [D("10.00"), D("0.00")],
            "decay": [P.decay_per_month] * 2,
            "window_months": [P.network_window_months] * 2,
            "built_at": [built_at] * 2,
        },
        schema=stored.NAMES_ONLY_SCHEMA,
    )
    lake.append(
        stored.DATASET, table, f"chainnet-old-{month}", partition_by="as_of_month", sort_by=["chain_code"]
    )


def test_a_lake_built_before_the_ids_is_read_and_ranked_from_names(tmp_path: Path) -> None:
    new_lake, old_lake = Lake(tmp_path / "new"), Lake(tmp_path / "old")
    for lake in (new_lake, old_lake):
        write(lake, rows())
    _old_build(old_lake, "2024-02")
    new_engine, old_engine = DuckDBEngine(new_lake.root), DuckDBEngine(old_lake.root)
    resident.clear()
    try:
        assert not stored.carries_ids(old_lake.root) and stored.carries_ids(new_lake.root)
        stored.build_month(old_engine, old_lake, "2024-03", CHAINS, P)  # keeps the lake's schema: no ids
        stored.build_month(new_engine, new_lake, "2024-03", CHAINS, P)
        assert not stored.carries_ids(old_lake.root)
        old, new = Counting(old_engine), Counting(new_engine)
        from_names = service.ranked_network(old, "new_display", "2024-03", P)  # type: ignore[arg-type]
        resident.clear()
        from_ids = service.ranked_network(new, "new_display", "2024-03", P)  # type: ignore[arg-type]
        assert old.runs == ["chain_network_stamp", "chain_network_stored"]
        assert new.runs == ["chain_network_stamp", "chain_network_stored_ids"]
        assert from_ids == from_names and repr(from_ids) == repr(from_names)
        # The old month itself: one link, c → m1 10.00.
        resident.clear()
        february = service.ranked_network(old_engine, "new_display", "2024-02", P)
        assert (february.nodes, february.links) == (2, 1)
        assert {c.uscc: c.paid for c in february.centralities}[U["c"]] == D("10.00")
    finally:
        resident.clear()
        new_engine.close()
        old_engine.close()
