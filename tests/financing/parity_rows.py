"""Work-order rows for the Spark parity region (tests/analytics/region.py) and their parity cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from jinyu.analytics import Lake
from jinyu.financing.calendars import load_calendar
from jinyu.financing.service.lake_export import DATASET
from jinyu.financing.synthetic import Shape, synthetic_orders

SHAPE = Shape(banks=3, branches_per_bank=2, outlets_per_branch=3)


def add(lake: Lake) -> None:
    table = synthetic_orders(600, load_calendar(Path("/nonexistent")), seed=3, shape=SHAPE)
    lake.append(DATASET, table, "fin1", partition_by="dispatched_on", sort_by=["bank_id", "outlet_id"])
    # A second, later complete snapshot (more orders, other histories): only it is counted.
    later = synthetic_orders(700, load_calendar(Path("/nonexistent")), seed=4, shape=SHAPE)
    later = later.set_column(
        later.schema.get_field_index("exported_at"),
        "exported_at",
        [[dt.datetime(2027, 2, 1, tzinfo=dt.UTC)] * later.num_rows],
    )
    lake.append(DATASET, later, "fin2", partition_by="dispatched_on", sort_by=["bank_id", "outlet_id"])


def cases() -> Mapping[str, list[Mapping[str, object]]]:
    end = dt.date(2026, 12, 31)
    latest, first = dt.datetime(2027, 2, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    return {
        "financing_indicators": [
            {"group_by": "outlet", "as_of": end, "bank": "", "month": "", "snapshot": latest},
            {"group_by": "bank", "as_of": dt.date(2026, 6, 30), "bank": "", "month": "", "snapshot": latest},
            {"group_by": "manager", "as_of": end, "bank": "B02", "month": "", "snapshot": latest},
            {"group_by": "month", "as_of": end, "bank": "", "month": "", "snapshot": first},
            {"group_by": "chain", "as_of": end, "bank": "", "month": "2026-03", "snapshot": latest},
            {"group_by": "district", "as_of": end, "bank": "NOPE", "month": "", "snapshot": latest},
            {
                "group_by": "industry",
                "as_of": end,
                "bank": "",
                "month": "",
                "snapshot": dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
            },
        ],
        "financing_latest_snapshot": [{}],
    }
