"""Registry datasets that also describe organisations: map their accepted rows to party upserts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from jinyu.core.auth import OrgKind
from jinyu.party.service import RegistryOrg

BANK_LEVELS = {
    "head_office": OrgKind.BANK_HEAD_OFFICE,
    "branch": OrgKind.BANK_BRANCH,
    "outlet": OrgKind.BANK_OUTLET,
}
LEVEL_ORDER = {"head_office": 0, "branch": 1, "outlet": 2}
INSTITUTION_KINDS = {
    "insurer": OrgKind.INSURER,
    "hospital": OrgKind.HOSPITAL,
    "pharma": OrgKind.PHARMA,
    "bureau": OrgKind.BUREAU,
}


def _enterprises(rows: list[dict[str, Any]]) -> Iterator[RegistryOrg]:
    for r in rows:
        yield RegistryOrg(
            kind=OrgKind.ENTERPRISE,
            code=r["uscc"],
            name=r["name"],
            uscc=r["uscc"],
            district_code=r["district_code"],
            industry_code=r["industry_code"],
            legal_rep_token=r["legal_rep_id"],
            attrs={"status": r["status"]},
        )


def _banks(rows: list[dict[str, Any]]) -> Iterator[RegistryOrg]:
    # Parents before children, so every branch finds its head office in the same load.
    for r in sorted(rows, key=lambda r: LEVEL_ORDER[r["level"]]):
        yield RegistryOrg(
            kind=BANK_LEVELS[r["level"]],
            code=r["org_code"],
            name=r["name"],
            parent_code=r["parent_code"],
            uscc=r["uscc"],
            district_code=r["district_code"],
        )


def _institutions(rows: list[dict[str, Any]]) -> Iterator[RegistryOrg]:
    for r in rows:
        attrs = {k: r[k] for k in ("hospital_grade", "in_prepayment") if r.get(k) is not None}
        yield RegistryOrg(
            kind=INSTITUTION_KINDS[r["kind"]],
            code=r["org_code"],
            name=r["name"],
            uscc=r["uscc"],
            district_code=r["district_code"],
            attrs=attrs,
        )


MAPPERS = {"enterprises": _enterprises, "banks": _banks, "institutions": _institutions}


def registry_orgs(dataset: str, table: pa.Table) -> list[RegistryOrg]:
    """Organisations described by a load's accepted (already protected) rows."""
    return list(MAPPERS[dataset](table.to_pylist()))
