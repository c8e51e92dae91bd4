"""Which months of the stored network (`chain_network_links`) are due for a build: `jinyu chain network-build
--due`, meant to run after every load of transfers (or on a timer). Running it again builds nothing.

An as-of month M is due when it has transfers and either it was never built with the current parameters
(`decay_per_month`, `network_window_months`) or a file its network reads was written after M's latest build:
a transfers file of one of the window's months M − window + 1 .. M (a new month's load, or a late payment of an
earlier month), or any file of `chain_members`, `accounts` or `enterprises` (membership and ownership decide
which payments are a chain's). A month whose member-pair sums are not current (`pairs.stale_months`: never
built, e.g. a lake older than them) is due too, since the build makes them. File times are the lake's
modification times: the lake is append-only and a load's files are written once, so a file newer than a build
is data the build did not read.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jinyu.analytics import Engine, Lake
from jinyu.chain import pairs, rules, stored
from jinyu.chain.definitions import Parameters

SHARED = ("chain_members", "accounts", "enterprises")


def _written(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)


def transfer_months(lake: Lake) -> dict[str, dt.datetime]:
    """Each month of transfers and when its newest file was written."""
    newest: dict[str, dt.datetime] = {}
    for path in lake.files("transfers"):
        month = path.parent.name.removeprefix("month=")
        newest[month] = max(newest.get(month, _written(path)), _written(path))
    return newest


def _shared_written(lake: Lake) -> dt.datetime | None:
    times = [_written(p) for name in SHARED for p in lake.files(name)]
    return max(times) if times else None


def due_months(engine: Engine, lake: Lake, p: Parameters) -> list[str]:
    """The as-of months to build, oldest first (see the module doc)."""
    built = {
        str(r["as_of_month"]): r
        for r in engine.run(stored.BUILDS.name).to_pylist()
        if r["decay"] == p.decay_per_month and r["window_months"] == p.network_window_months
    }
    months = transfer_months(lake)
    shared = _shared_written(lake)
    due = []
    stale = set(pairs.stale_months(engine, lake, sorted(months)))
    for month in sorted(months):
        build = built.get(month)
        if build is None or month in stale:
            due.append(month)
            continue
        window = [rules.add_months(month, -i) for i in range(p.network_window_months)]
        inputs = [months[m] for m in window if m in months] + ([shared] if shared else [])
        if max(inputs) > build["built_at"]:
            due.append(month)
    return due
