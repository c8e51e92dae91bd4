"""A ranking held as columns (`resident.Ranked`, issue 16): the same rows as summing each link's Decimal and
ranking node objects (written here independently, with `network.centrality`'s PageRanks), rows made only for the
members a page shows, money exact in fen beyond a double's integers, and the kept file read back whole or not
at all."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from jinyu.chain import definitions, id_links, network, resident, service
from jinyu.chain.definitions import Parameters

D = Decimal
P: Parameters = definitions.load().parameters
KEY: resident.Key = ("new_display", "2024-03", dt.datetime(2024, 4, 1, tzinfo=dt.UTC), "0.8", 6, 5000)


def _random_links(n: int, m: int, seed: int) -> dict[tuple[str, str], Decimal]:
    rng = np.random.default_rng(seed)
    a, b, fen = rng.integers(0, n, m), rng.integers(0, n, m), rng.integers(0, 10**9, m)
    names = [f"91{i:016d}" for i in rng.permutation(n)]  # ids not in name order
    return {(names[x], names[y]): D(int(f)).scaleb(-2) for x, y, f in zip(a, b, fen, strict=True) if x != y}


def _reference(links: dict[tuple[str, str], Decimal], max_nodes: int) -> list[tuple[object, ...]]:
    """Rows as the ranking had them before it was columnar: Decimal sums from Decimal(0), every node an object,
    sorted by PageRank (supplier) descending, then USCC."""
    paid: dict[str, Decimal] = {}
    received: dict[str, Decimal] = {}
    for (a, b), w in links.items():
        paid[a] = paid.get(a, D(0)) + w
        received[b] = received.get(b, D(0)) + w
    ranks = network.centrality(links, max_nodes)
    rows = [
        (
            c.uscc,
            c.pagerank_supplier,
            c.pagerank_buyer,
            c.betweenness,
            paid.get(c.uscc, D(0)),
            received.get(c.uscc, D(0)),
        )
        for c in ranks
    ]
    return sorted(rows, key=lambda r: (-float(r[1]), str(r[0])))  # type: ignore[arg-type]


def _rows(ranked: resident.Ranked) -> list[tuple[object, ...]]:
    return [
        (c.uscc, c.pagerank_supplier, c.pagerank_buyer, c.betweenness, c.paid, c.received)
        for c in ranked.centralities
    ]


@pytest.mark.parametrize(("n", "m", "max_nodes"), [(300, 1500, 5000), (3000, 12000, 100)])
def test_columns_give_the_rows_of_decimal_sums_to_the_bit(n: int, m: int, max_nodes: int) -> None:
    links = _random_links(n, m, seed=n)
    ranked = service.rank_links(links, dataclasses.replace(P, betweenness_max_nodes=max_nodes))
    expected = _reference(links, max_nodes)
    got = _rows(ranked)
    assert got == expected and repr(got) == repr(expected)  # repr: Decimal('0') stays 0, not 0.00
    assert (ranked.nodes, ranked.links) == (len({u for p in links for u in p}), len(links))
    assert (ranked.betweenness is None) == (ranked.nodes > max_nodes)


def test_one_who_only_pays_or_only_receives_has_decimal_zero_on_the_other_side() -> None:
    links = {("A", "B"): D("1.00"), ("A", "C"): D("0.00"), ("C", "B"): D("2.50")}
    by = {c.uscc: c for c in service.rank_links(links, P).centralities}
    assert [(repr(by[u].paid), repr(by[u].received)) for u in "ABC"] == [
        ("Decimal('1.00')", "Decimal('0')"),
        ("Decimal('0')", "Decimal('3.50')"),
        ("Decimal('2.50')", "Decimal('0.00')"),  # a link of 0.00 received: the sum has two places
    ]


def test_money_stays_exact_past_a_doubles_integers() -> None:
    # 3 × 9,007,199,254,740,993 fen (2**53 + 1, which no double holds) paid by A: summed in int64.
    big = D(2**53 + 1).scaleb(-2)
    links = {("A", "B"): big, ("A", "C"): big, ("A", "D"): big, ("B", "C"): D("0.01")}
    no_betweenness = dataclasses.replace(P, betweenness_max_nodes=0)  # 1 / weight is below its tolerance here
    by = {c.uscc: c for c in service.rank_links(links, no_betweenness).centralities}
    assert by["A"].paid == 3 * big and by["C"].received == big + D("0.01")
    assert by["A"].paid == D(3 * (2**53 + 1)).scaleb(-2)


def test_weights_not_in_whole_fen_are_refused_not_rounded() -> None:
    with pytest.raises(ValueError, match="whole fen"):
        id_links.from_names({("A", "B"): D("1.005")})
    # Whole fen written with fewer places is taken; the answer then has two places (fen).
    found = id_links.from_names({("A", "B"): D("10")})
    assert found.fen.tolist() == [1000] and found.names.to_pylist() == ["A", "B"]


def test_first_members_are_taken_in_ranking_order_past_the_first_slice() -> None:
    links = _random_links(600, 3000, seed=3)
    ranked = service.rank_links(links, P)
    everyone = [c.uscc for c in ranked.centralities]
    members = set(everyone[-150:][::3])  # only near the end of the ranking: several slices are read
    expected = [c for c in ranked.centralities if c.uscc in members]
    assert ranked.first(10, members) == expected[:10]
    assert ranked.first(1000, members) == expected  # fewer members than asked: all of them
    assert ranked.first(5, set()) == [] and ranked.first(0, members) == []
    assert ranked.row(0) == ranked.centralities[0]


def test_an_empty_network_ranks_to_no_rows() -> None:
    ranked = service.rank_links({}, P)
    assert (ranked.nodes, ranked.links, ranked.centralities, ranked.first(10, {"A"})) == (0, 0, (), [])


def test_the_kept_file_reads_back_equal_or_not_at_all() -> None:
    ranked = service.rank_links(_random_links(200, 900, seed=5), P)
    table = resident.to_table(KEY, ranked)
    back = resident.from_table(KEY, table)
    assert back == ranked and repr(back) == repr(ranked) and back.centralities == ranked.centralities
    other_key = (*KEY[:5], 100)
    assert resident.from_table(other_key, table) is None  # another question's file

    def altered(name: str, values: pa.Array) -> pa.Table:
        i = table.schema.get_field_index(name)
        return table.set_column(i, table.schema.field(i), values).replace_schema_metadata(
            table.schema.metadata
        )

    paying = table.column("paying").to_numpy().copy()
    paying[0] += 1
    assert resident.from_table(KEY, altered("paying", pa.array(paying))) is None  # counts do not add up
    paid = pa.array([None, *table.column("paid_fen").to_pylist()[1:]], pa.int64())
    assert resident.from_table(KEY, altered("paid_fen", paid)) is None  # a null fen
    between = pa.nulls(table.num_rows, pa.float64())
    assert resident.from_table(KEY, altered("betweenness", between)) is None  # said computed, but null
    # The first format (money as Decimal text) is another question: not read.
    old = pa.table({"uscc": pa.array(["A"]), "paid": pa.array(["1.00"])})
    assert resident.from_table(KEY, old.replace_schema_metadata(table.schema.metadata)) is None


def test_rankings_compare_to_the_bit() -> None:
    ranked = service.rank_links(_random_links(100, 400, seed=9), P)
    nudged = np.nextafter(ranked.pagerank_buyer, 1.0)
    other = resident.Ranked(**{**vars(ranked), "pagerank_buyer": nudged})
    assert other != ranked and ranked == resident.Ranked(**vars(ranked))
