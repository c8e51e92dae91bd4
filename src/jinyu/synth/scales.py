"""The size parameters of every scale, in one table.

`transfers` is a target: fixed monthly obligations (payroll, tax, social insurance, loan servicing) are
counted first and the rest of the budget is shared among the free-running flow families by `FAMILY_SHARES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinyu.core.errors import invalid


@dataclass(frozen=True)
class Scale:
    name: str
    enterprises: int
    persons: int  # residents holding personal accounts (legal reps, shareholders and employees among them)
    employees: int  # persons paid monthly by a region enterprise (payroll transfers = employees x months)
    banks: int  # head offices
    branches_per_bank: int
    outlets_per_branch: int
    managers_per_outlet: int
    hospitals: int
    insurers: int
    pharma: int
    transfers: int  # target row count of `transfers`
    transfer_parts: bool  # write transfers/part-NNNNN.parquet (one per month) instead of transfers.parquet


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale(
            "small",
            enterprises=300,
            persons=2_000,
            employees=400,
            banks=5,
            branches_per_bank=3,
            outlets_per_branch=3,
            managers_per_outlet=2,
            hospitals=30,
            insurers=4,
            pharma=3,
            transfers=50_000,
            transfer_parts=False,
        ),
        Scale(
            "medium",
            enterprises=5_000,
            persons=40_000,
            employees=15_000,
            banks=8,
            branches_per_bank=8,
            outlets_per_branch=5,
            managers_per_outlet=3,
            hospitals=200,
            insurers=8,
            pharma=6,
            transfers=2_000_000,
            transfer_parts=False,
        ),
        Scale(
            "large",
            enterprises=60_000,
            persons=850_000,
            employees=160_000,
            banks=13,
            branches_per_bank=26,
            outlets_per_branch=4,
            managers_per_outlet=3,
            hospitals=2_107,
            insurers=13,
            pharma=12,
            transfers=21_000_000,
            transfer_parts=True,
        ),
    )
}

# Share of the free budget (target minus fixed monthly obligations) per flow family.
FAMILY_SHARES: dict[str, float] = {
    "supply": 0.40,  # enterprise -> its suppliers, along the chains and in the general supply network
    "consumer": 0.24,  # person -> payment processor hub (card and QR payments)
    "p2p": 0.12,  # person -> person
    "merchant_settlement": 0.10,  # processor hub -> merchant enterprise
    "securities": 0.05,  # person <-> securities settlement accounts (bank-securities transfers)
    "hub_rebalance": 0.03,  # processor hub -> the same processor's hub at another bank
    "developer": 0.04,  # developer -> construction firms, and home buyers -> developer
    "services": 0.02,  # enterprise -> service firms (rent, software, logistics)
}


def get_scale(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        known = ", ".join(SCALES)
        raise invalid(
            "scale", f"未知规模“{name}”，可选：{known} / unknown scale {name!r}; one of: {known}"
        ) from None
