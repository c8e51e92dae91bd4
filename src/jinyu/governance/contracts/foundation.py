"""The hub's foundation datasets: registry, government data, banks and bank data (defined in `registry_data` and
`bank_data`; gathered here with their load order)."""

from __future__ import annotations

from jinyu.governance.contracts.bank_data import (
    ACCOUNT_CATEGORIES,
    ACCOUNTS,
    BANKS,
    CUSTOMER_MANAGERS,
    INSTITUTIONS,
    LOAN_GUARANTEES,
    LOAN_PURPOSES,
    LOANS,
    OPENING_BALANCES,
    RELATED_PARTIES,
    RELATION_KINDS,
    RELATION_SOURCES,
    TRANSFERS,
)
from jinyu.governance.contracts.base import Contract
from jinyu.governance.contracts.registry_data import (
    CHAIN_MEMBERS,
    CHAIN_SEGMENTS,
    ENTERPRISES,
    HEADCOUNT_MONTHLY,
    JUDICIAL,
    PATENTS,
    SHAREHOLDERS,
    TAX_MONTHLY,
)

__all__ = [
    "ACCOUNT_CATEGORIES",
    "CHAIN_SEGMENTS",
    "FOUNDATION",
    "FOUNDATION_ORDER",
    "LOAN_PURPOSES",
    "RELATION_KINDS",
    "RELATION_SOURCES",
]

FOUNDATION: tuple[Contract, ...] = (
    ENTERPRISES,
    CHAIN_MEMBERS,
    SHAREHOLDERS,
    TAX_MONTHLY,
    HEADCOUNT_MONTHLY,
    PATENTS,
    JUDICIAL,
    BANKS,
    CUSTOMER_MANAGERS,
    INSTITUTIONS,
    ACCOUNTS,
    TRANSFERS,
    LOANS,
    LOAN_GUARANTEES,
    RELATED_PARTIES,
    OPENING_BALANCES,
)

# The order a region's foundation is loaded in: referenced datasets first.
FOUNDATION_ORDER: tuple[str, ...] = (
    "banks",
    "institutions",
    "enterprises",
    "customer_managers",
    "chain_members",
    "shareholders",
    "tax_monthly",
    "headcount_monthly",
    "patents",
    "judicial",
    "accounts",
    "loans",
    "loan_guarantees",
    "related_parties",
    "opening_balances",
    "transfers",
)
