"""Spark parity cases of the industrial-chain queries, on the parity region of tests/analytics/region.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

import pyarrow as pa

import jinyu.chain.queries  # noqa: F401  registers the queries the cases name
from jinyu.analytics import Lake
from jinyu.chain import pairs, stored

WINDOW = {"from_month": "2024-01", "to_month": "2024-06"}
# The two stored builds of 2024-06 (`add_stored_network`): a stamp names one of them.
EARLIER_BUILD = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
LATER_BUILD = dt.datetime(2024, 7, 2, tzinfo=dt.UTC)
HEALTH = {
    "as_of_month": "2024-06",
    "earlier_month": "2023-12",
    "tax_split_month": "2023-06",
    "tax_from_month": "2022-06",
    "as_of_end": dt.date(2024, 7, 1),
}


def chain_overrides(enterprises: list[str]) -> str:
    """`$segment_overrides` moving two new-display members (one into a segment the dataset never uses for
    them), one auto member, and naming a USCC that is no member (ignored)."""
    return (
        f"new_display:{enterprises[0]}:dealers;new_display:{enterprises[3]}:materials;"
        f"auto:{enterprises[5]}:downstream;new_display:{enterprises[11]}:panels"
    )


def chain_parity_cases(enterprises: list[str]) -> Mapping[str, list[Mapping[str, object]]]:
    page = {"limit": 100, "offset": 0}
    none = {"segment_overrides": ""}
    moved = {"segment_overrides": chain_overrides(enterprises)}
    return {
        "chain_member_list": [
            {"chain_code": "new_display", "segment": "", **page, **none},
            {"chain_code": "auto", "segment": "core", **page, **none},
            {"chain_code": "new_display", "segment": "", "limit": 2, "offset": 3, **none},
            {"chain_code": "nope", "segment": "", **page, **none},
            {"chain_code": "new_display", "segment": "", **page, **moved},
            {"chain_code": "new_display", "segment": "dealers", **page, **moved},
        ],
        "chain_segment_counts": [none, moved],
        "chain_external_flows": [
            {"chain_code": "new_display", **WINDOW, **none},
            {"chain_code": "auto", "from_month": "2024-02", "to_month": "2024-02", **none},
            {"chain_code": "new_display", "from_month": "2025-01", "to_month": "2025-03", **none},
            {"chain_code": "new_display", **WINDOW, **moved},
        ],
        "chain_member_links": [
            {"chain_code": "new_display", **WINDOW},
            {"chain_code": "auto", "from_month": "2024-03", "to_month": "2024-04"},
        ],
        "chain_links_and_flows": [
            {"chain_code": "new_display", **WINDOW, **none},
            {"chain_code": "auto", "from_month": "2024-03", "to_month": "2024-04", **none},
            {"chain_code": "new_display", **WINDOW, **moved},
        ],
        "chain_member_health": [
            {"chain_code": "new_display", "focus": enterprises[0], **HEALTH},
            {"chain_code": "auto", "focus": "", **HEALTH},
            {"chain_code": "nope", "focus": enterprises[10], **HEALTH},
        ],
        "chain_loans": [
            {"chain_code": "new_display", **WINDOW, **none},
            {"chain_code": "auto", **WINDOW, **none},
            {"chain_code": "new_display", "from_month": "2024-04", "to_month": "2024-06", **none},
            {"chain_code": "new_display", **WINDOW, **moved},
        ],
        "chain_member_borrowers": [
            {"chain_code": "new_display", **WINDOW},
            {"chain_code": "auto", "from_month": "2023-01", "to_month": "2023-12"},
            {"chain_code": "nope", **WINDOW},
        ],
        "chain_loans_and_borrowers": [
            {"chain_code": "new_display", **WINDOW, **none},
            {"chain_code": "auto", **WINDOW, **none},
            {"chain_code": "new_display", "from_month": "2024-04", "to_month": "2024-06", **none},
            {"chain_code": "new_display", **WINDOW, **moved},
        ],
        "chain_network_build": [
            {"from_month": "2024-01", "as_of_month": "2024-06", "decay": Decimal("0.8")},
            {"from_month": "2024-03", "as_of_month": "2024-04", "decay": Decimal("0.75")},
            {"from_month": "2025-01", "as_of_month": "2025-06", "decay": Decimal("0.8")},
        ],
        "chain_network_stored": [
            {"chain_code": "new_display", "as_of_month": "2024-06"},
            {"chain_code": "auto", "as_of_month": "2024-06"},
            {"chain_code": "new_display", "as_of_month": "2024-05"},
        ],
        "chain_network_stored_ids": [
            {"chain_code": "new_display", "as_of_month": "2024-06", "built_at": LATER_BUILD},
            {"chain_code": "new_display", "as_of_month": "2024-06", "built_at": EARLIER_BUILD},
            {"chain_code": "auto", "as_of_month": "2024-06", "built_at": LATER_BUILD},
            {"chain_code": "new_display", "as_of_month": "2024-05", "built_at": LATER_BUILD},
        ],
        "chain_network_builds": [{}],
        "chain_member_pairs_build": [{"month": "2024-03"}, {"month": "2025-01"}],
        "chain_member_pairs_builds": [{}],
        "chain_segment_flows_from_pairs": [
            {"chain_code": "new_display", "from_month": "2024-01", "to_month": "2024-06", **none},
            {"chain_code": "new_display", "from_month": "2024-06", "to_month": "2024-06", **moved},
            {"chain_code": "auto", "from_month": "2024-06", "to_month": "2024-06", **none},
        ],
        "chain_network_stamp": [
            {"chain_code": "new_display", "as_of_month": "2024-06"},
            {"chain_code": "new_display", "as_of_month": "2024-05"},
        ],
        "chain_credit_coverage": [
            {"chain_code": "new_display", **WINDOW, **none},
            {"chain_code": "auto", "from_month": "2023-01", "to_month": "2023-12", **none},
            {"chain_code": "auto", **WINDOW, **moved},
        ],
    }


def add_stored_network(lake: Lake, enterprises: list[str]) -> None:
    """Two builds of 2024-06 (the later one must win on both engines), each with its marker rows."""
    for n, built_at in enumerate((EARLIER_BUILD, LATER_BUILD)):
        links = [
            ("new_display", enterprises[0], enterprises[1], Decimal("1234.56") + n),
            ("new_display", enterprises[2], enterprises[0], Decimal("0.01")),
            ("auto", enterprises[5], enterprises[6], Decimal("99.90") * (n + 1)),
        ]
        markers = [(code, None, None, Decimal("0.00")) for code in ("new_display", "auto")]
        nodes = {
            code: sorted({u for c, a, b, _ in links if c == code for u in (a, b)})
            for code in ("new_display", "auto")
        }
        ids = [(nodes[c].index(a), nodes[c].index(b)) for c, a, b, _ in links] + [(None, None)] * len(markers)
        every = links + markers
        table = pa.Table.from_pydict(
            {
                "as_of_month": ["2024-06"] * len(every),
                "chain_code": [r[0] for r in every],
                "payer": [r[1] for r in every],
                "payee": [r[2] for r in every],
                "weight": [r[3] for r in every],
                "decay": [Decimal("0.8")] * len(every),
                "window_months": [6] * len(every),
                "built_at": [built_at] * len(every),
                "payer_id": [i[0] for i in ids],
                "payee_id": [i[1] for i in ids],
            },
            schema=stored.SCHEMA,
        )
        lake.append(
            stored.DATASET, table, f"chainnet-parity-{n}", partition_by="as_of_month", sort_by=["chain_code"]
        )


def add_member_pairs(lake: Lake, enterprises: list[str]) -> None:
    """Two builds of 2024-06's member-pair sums (the later one must win on both engines), each with its marker
    row; amounts in fen."""
    for n, built_at in enumerate(
        (dt.datetime(2024, 7, 1, tzinfo=dt.UTC), dt.datetime(2024, 7, 2, tzinfo=dt.UTC))
    ):
        sums = [
            (enterprises[0], enterprises[1], 2 + n, Decimal("1234.56") + n),
            (enterprises[2], enterprises[0], 1, Decimal("0.01")),
            (enterprises[3], enterprises[11], 3, Decimal("99.90") * (n + 1)),
            (enterprises[5], enterprises[6], 1, Decimal("7.07")),
            (None, None, 0, Decimal("0.00")),
        ]
        table = pa.Table.from_pydict(
            {
                "pairs_month": ["2024-06"] * len(sums),
                "payer": [r[0] for r in sums],
                "payee": [r[1] for r in sums],
                "txn_count": [r[2] for r in sums],
                "total_amount": [r[3] for r in sums],
                "built_at": [built_at] * len(sums),
            },
            schema=pairs.SCHEMA,
        )
        lake.append(
            pairs.DATASET, table, f"chainpairs-parity-{n}", partition_by="pairs_month", sort_by=["payer"]
        )
