"""Dataset contracts: the documented ingestion format of every dataset the hub takes in.

Types live in `base`; each group of datasets in a module of its own (`foundation`, `claims`, and later
domains' own modules), registered here. Ingestion validates against these; the synthetic region writes them;
`docs/data-formats.md` is generated from them (`jinyu datasets docs`).

To add datasets: write `contracts/<area>.py` with the Contract constants, a tuple of them and their load order,
then add one line to each of `_GROUPS` and `LOAD_ORDER` below.
"""

from __future__ import annotations

from jinyu.governance.contracts.base import (
    Check,
    Column,
    Contract,
    Kind,
    Level,
    Protect,
)
from jinyu.governance.contracts.claims import CLAIMS, CLAIMS_ORDER
from jinyu.governance.contracts.credit import CREDIT, CREDIT_ORDER
from jinyu.governance.contracts.foundation import (
    ACCOUNT_CATEGORIES,
    CHAIN_SEGMENTS,
    FOUNDATION,
    FOUNDATION_ORDER,
)

_GROUPS: tuple[tuple[Contract, ...], ...] = (FOUNDATION, CLAIMS, CREDIT)

CONTRACTS: dict[str, Contract] = {c.name: c for group in _GROUPS for c in group}

# The order a whole region is loaded in: referenced datasets first.
LOAD_ORDER: tuple[str, ...] = (*FOUNDATION_ORDER, *CLAIMS_ORDER, *CREDIT_ORDER)

__all__ = [
    "ACCOUNT_CATEGORIES",
    "CHAIN_SEGMENTS",
    "CONTRACTS",
    "LOAD_ORDER",
    "Check",
    "Column",
    "Contract",
    "Kind",
    "Level",
    "Protect",
]
