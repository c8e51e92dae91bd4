"""The transfers ledger, generated and written one month at a time with vectorised Arrow compute.

For month m every active flow yields floor(rate) transfers plus one more with probability frac(rate); each
gets a time by its flow's timing and a lognormal amount rounded to the fen (or to the flow's granularity).
The month's fixed events (tax, social insurance, loans) join them, the month is sorted by time and numbered,
and written as one row group. Memory stays at one month whatever the scale.

Files: `transfers.parquet` with a row group per month, or for scales with `transfer_parts` one file per month
`transfers/part-00000.parquet` ... `part-00023.parquet`. Either way rows are in time order and txn_id
increases with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from jinyu.synth.calendar import epoch
from jinyu.synth.model import BUSINESS, CHANNELS, RETAIL, SETTLEMENT, Region
from jinyu.synth.schema import DATASETS
from jinyu.synth.writers import (
    ROW_GROUP_ROWS,
    FileRecord,
    arrow_schema,
    cents_to_decimal,
    parquet_writer,
    record,
    seconds_to_timestamp,
)

SPEC = DATASETS["transfers"]
_HOUR = 3600
_MAX_CENTS = 10**13  # 100 billion yuan: far above any real transfer, far below decimal(18,2)'s limit


def _buffer_array(values: object, type_: pa.DataType, length: int) -> pa.Array:
    """Zero-copy view of an `array.array` column as an Arrow array."""
    return pa.Array.from_buffers(type_, length, [None, pa.py_buffer(values)])


@dataclass(frozen=True)
class _Flows:
    src: pa.Array
    dst: pa.Array
    rate: pa.Array
    base: pa.Array  # floor(rate)
    frac: pa.Array  # rate - floor(rate)
    mu: pa.Array
    sigma: pa.Array
    round_to: pa.Array
    timing: pa.Array
    param: pa.Array
    channel: pa.Array
    memo: pa.Array
    start: pa.Array
    end: pa.Array

    @classmethod
    def of(cls, region: Region) -> _Flows:
        f, n = region.flows, len(region.flows)
        i64, f64, i8 = pa.int64(), pa.float64(), pa.int8()
        rate = _buffer_array(f.rate, f64, n)
        base = pc.floor(rate)
        return cls(
            src=_buffer_array(f.src, i64, n),
            dst=_buffer_array(f.dst, i64, n),
            rate=rate,
            base=base,
            frac=pc.subtract(rate, base),
            mu=_buffer_array(f.mu, f64, n),
            sigma=_buffer_array(f.sigma, f64, n),
            round_to=_buffer_array(f.round_to, i64, n),
            timing=_buffer_array(f.timing, i8, n),
            param=_buffer_array(f.param, i8, n),
            channel=_buffer_array(f.channel, i8, n),
            memo=_buffer_array(f.memo, i64, n),
            start=_buffer_array(f.start, i8, n),
            end=_buffer_array(f.end, i8, n),
        )


class _Random:
    """Uniform [0, 1) arrays from seeds derived per month and draw, so each month is reproducible alone."""

    def __init__(self, region: Region, month: int) -> None:
        self.region, self.month, self.draws = region, month, 0

    def __call__(self, n: int) -> pa.Array:
        self.draws += 1
        return pc.random(n, initializer=self.region.seed_for(f"transfers:{self.month}:{self.draws}"))


def _index(u: pa.Array, size: int) -> pa.Array:
    """floor(u * size) as int64, clamped to size - 1."""
    return pc.min_element_wise(pc.cast(pc.floor(pc.multiply(u, size)), pa.int64()), size - 1)


def _times(region: Region, month: int, timing: pa.Array, param: pa.Array, rnd: _Random) -> pa.Array:
    """Epoch seconds within the month, by each row's timing kind."""
    cal, n = region.calendar, len(timing)
    work = pa.array([epoch(d) for d in cal.working_days[month]], pa.int64())
    days = pa.array([epoch(d) for d in cal.days[month]], pa.int64())
    u_day, u_sec, u_mix = rnd(n), rnd(n), rnd(n)
    work_day = pc.take(work, _index(u_day, len(work)))
    any_day = pc.take(days, _index(u_day, len(days)))

    def at(day: pa.Array, first_hour: float, hours: float) -> pa.Array:
        offset = pc.cast(pc.floor(pc.multiply(u_sec, hours * _HOUR)), pa.int64())
        return pc.add(day, pc.add(offset, int(first_hour * _HOUR)))

    # Business payments: 85% on working days 9:00-17:30, the rest any day 7:00-23:00.
    business = pc.if_else(pc.less(u_mix, 0.85), at(work_day, 9, 8.5), at(any_day, 7, 16))
    # Card payments and private transfers: any day, mostly 8:00-22:00, some at night.
    retail = pc.if_else(pc.less(u_mix, 0.94), at(any_day, 8, 14), at(any_day, 0, 8))
    # Processor settlement batches: working days 7:00-10:00.
    settlement = at(work_day, 7, 3)
    # Monthly batches (payroll): the flow's n-th working day, 9:00-11:00.
    nth = pc.min_element_wise(pc.cast(param, pa.int64()), len(work) - 1)
    monthly = at(pc.take(work, nth), 9, 2)
    return pc.if_else(
        pc.equal(timing, BUSINESS),
        business,
        pc.if_else(
            pc.equal(timing, RETAIL), retail, pc.if_else(pc.equal(timing, SETTLEMENT), settlement, monthly)
        ),
    )


def _amounts(mu: pa.Array, sigma: pa.Array, round_to: pa.Array, rnd: _Random) -> pa.Array:
    """Lognormal yuan amounts as int64 fen, rounded to each row's granularity (Box-Muller normals)."""
    n = len(mu)
    radius = pc.sqrt(pc.multiply(pc.ln(pc.subtract(1.0, rnd(n))), -2.0))
    z = pc.multiply(radius, pc.cos(pc.multiply(rnd(n), 2 * math.pi)))
    fen = pc.multiply(pc.exp(pc.add(mu, pc.multiply(sigma, z))), 100.0)
    step = pc.cast(round_to, pa.float64())
    rounded = pc.multiply(pc.round(pc.divide(fen, step)), step)
    bounded = pc.min_element_wise(pc.max_element_wise(rounded, step), float(_MAX_CENTS))
    return pc.cast(bounded, pa.int64())


def _month_table(
    region: Region, flows: _Flows, month: int, accounts: pa.Array, memos: pa.Array, first_txn: int
) -> pa.Table:
    rnd = _Random(region, month)
    active = pc.and_(pc.less_equal(flows.start, month), pc.greater_equal(flows.end, month))
    extra = pc.cast(pc.less(rnd(len(flows.rate)), flows.frac), pa.float64())
    counts = pc.cast(pc.if_else(active, pc.add(flows.base, extra), 0.0), pa.int32())
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(counts)])
    total = offsets[-1].as_py()
    parent = pc.list_parent_indices(pa.ListArray.from_arrays(offsets, pa.nulls(total)))

    def pick(column: pa.Array) -> pa.Array:
        return pc.take(column, parent)

    ts = _times(region, month, pick(flows.timing), pick(flows.param), rnd)
    cents = _amounts(pick(flows.mu), pick(flows.sigma), pick(flows.round_to), rnd)
    ev = region.events.months[month]
    k = len(ev.src)
    src = pa.concat_arrays([pick(flows.src), _buffer_array(ev.src, pa.int64(), k)])
    dst = pa.concat_arrays([pick(flows.dst), _buffer_array(ev.dst, pa.int64(), k)])
    ts = pa.concat_arrays([ts, _buffer_array(ev.ts, pa.int64(), k)])
    cents = pa.concat_arrays([cents, _buffer_array(ev.cents, pa.int64(), k)])
    channel = pa.concat_arrays([pick(flows.channel), _buffer_array(ev.channel, pa.int8(), k)])
    memo = pa.concat_arrays([pick(flows.memo), _buffer_array(ev.memo, pa.int64(), k)])
    order = pc.sort_indices(
        pa.table({"ts": ts, "src": src, "dst": dst}),
        sort_keys=[("ts", "ascending"), ("src", "ascending"), ("dst", "ascending")],
    )
    n = len(order)
    ids = pa.array(range(first_txn, first_txn + n), pa.int64())
    memo = pc.take(memo, order)
    return pa.Table.from_arrays(
        [
            pc.binary_join_element_wise("T", pc.utf8_lpad(pc.cast(ids, pa.string()), 12, "0"), ""),
            seconds_to_timestamp(pc.take(ts, order)),
            pc.take(accounts, pc.take(src, order)),
            pc.take(accounts, pc.take(dst, order)),
            cents_to_decimal(pc.take(cents, order)),
            pa.repeat(pa.scalar("CNY"), n),
            pc.take(pa.array(CHANNELS), pc.take(channel, order)),
            pc.take(memos, pc.if_else(pc.less(memo, 0), pa.scalar(None, pa.int64()), memo)),
        ],
        schema=arrow_schema(SPEC),
    )


def write_transfers(region: Region, out: Path, tick: Callable[[int], None]) -> list[FileRecord]:
    """Write the ledger month by month; `tick(rows)` is called after each month."""
    flows = _Flows.of(region)
    accounts = pa.array(region.accounts.numbers, pa.string())
    memos = pa.array(region.memos.texts, pa.string())
    records: list[FileRecord] = []
    single = out / SPEC.filename
    writer = None if region.scale.transfer_parts else parquet_writer(single, SPEC)
    written = 0
    try:
        for month in range(region.calendar.months):
            table = _month_table(region, flows, month, accounts, memos, written + 1)
            if writer is None:
                path = out / SPEC.name / f"part-{month:05d}.parquet"
                with parquet_writer(path, SPEC) as part:
                    part.write_table(table, row_group_size=ROW_GROUP_ROWS)
                records.append(record(out, path, table.num_rows))
            else:
                writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            written += table.num_rows
            tick(table.num_rows)
    finally:
        if writer is not None:
            writer.close()
    if writer is not None:
        records.append(record(out, single, written))
    return records
