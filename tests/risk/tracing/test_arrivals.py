"""`tracer._arrivals` (a hop's edges classified, grouped per (account, kind), rows and the next frontier), as
rewritten for the heavy traces (2026-12-08, h-bs), is the plain reading of its rules written here once more:
on random hops with many senders per account, several kinds per account, dust at the boundary, accounts seen
before and the last hop, with timed integers and with datetimes."""

from __future__ import annotations

import datetime as dt
import random
import zlib
from typing import Any

import pytest

from jinyu.risk.tracing import tracer
from jinyu.risk.tracing.rules import TraceSettings, final_kind

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _classify(src: str, dst: str, src_own: bool) -> tuple[str, bool]:
    bucket = zlib.crc32(f"{src}>{dst}".encode()) % 5
    return (("returned", False), ("stop", False), ("pass", True), ("pass", src_own), ("pass", False))[bucket]


def _reference(
    hop: int, flows: dict[tuple[str, str], Any], settings: TraceSettings, seen: set[str], instant: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[str, int, Any, bool]]]:
    """One edge at a time: group per (account, kind) in (src, dst) order, then rows in (account, kind) order."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for (src, dst), (traced, first, last, n, src_own) in sorted(flows.items()):
        kind, own = _classify(src, dst, src_own)
        g = groups.setdefault(
            (dst, kind), {"traced": 0, "first": first, "last": last, "n": 0, "own": False, "m": []}
        )
        g["traced"] += traced
        g["first"], g["last"] = min(g["first"], first), max(g["last"], last)
        g["n"] += n
        g["own"] = g["own"] or own
        g["m"].append((src, traced, first, last, n))
    nodes, edges, frontier = [], [], []
    for dst, kind in sorted(groups):
        g = groups[(dst, kind)]
        final = final_kind(kind, g["traced"], dst in seen, hop, settings)
        nodes.append({"hop": hop, "src": None, "account": dst, "kind": final, "traced": g["traced"],
                      "first_ts": instant(g["first"]), "last_ts": instant(g["last"]), "txn_count": g["n"]})  # fmt: skip
        if final == "pass":
            frontier.append((dst, g["traced"], instant(g["first"]), g["own"]))
        if g["traced"] >= settings.dust:
            edges += [{"hop": hop, "src": s, "account": dst, "kind": kind, "traced": t, "first_ts": instant(f),
                       "last_ts": instant(la), "txn_count": c} for s, t, f, la, c in g["m"]]  # fmt: skip
    return nodes, edges, frontier


@pytest.mark.parametrize("timed", [True, False])
@pytest.mark.parametrize("seed", range(40))
def test_arrivals_are_the_plain_grouping(seed: int, timed: bool) -> None:
    rng = random.Random(seed)
    senders = [f"S{n}" for n in range(rng.randint(1, 12))]
    receivers = [f"R{n}" for n in range(rng.randint(1, 12))] + senders[:2]
    settings = TraceSettings(max_hops=rng.choice([1, 2, 3, 5]), dust=rng.choice([1, 500, 10_000]))
    hop = rng.randint(1, settings.max_hops)
    flows: dict[tuple[str, str], Any] = {}
    for src in senders:
        for dst in rng.sample(receivers, rng.randint(0, len(receivers))):
            first = rng.randint(0, 10**12) if timed else EPOCH + dt.timedelta(seconds=rng.randint(0, 10**6))
            last = first + (rng.randint(0, 10**9) if timed else dt.timedelta(seconds=rng.randint(0, 10**4)))
            traced = rng.choice([settings.dust - 1, settings.dust, rng.randint(1, 3 * settings.dust)])
            flows[(src, dst)] = (traced, first, last, rng.randint(1, 5), rng.random() < 0.5)
    seen = set(rng.sample(receivers, rng.randint(0, len(receivers))))

    def instant(value: Any) -> Any:
        return EPOCH + dt.timedelta(microseconds=value) if timed else value

    want_nodes, want_edges, want_frontier = _reference(hop, flows, settings, set(seen), instant)
    out = tracer.Trace([], [])
    before = set(seen)
    frontier = tracer._arrivals(hop, flows, _classify, settings, seen, out, instant if timed else None)
    assert out.nodes == want_nodes
    assert out.edges == want_edges
    assert frontier == want_frontier
    assert seen == before | {a for a, *_ in want_frontier}
    assert repr(out.nodes + out.edges) == repr(want_nodes + want_edges)
