"""Data providers write only their own data.

Two rules, both from the dataset contract:
- `provided_by`: the kinds of organisation that provide a dataset. Anyone else's upload is refused whole
  (403 `dataset_not_providable`, naming the rule; the API audits the refusal as `denied`). The operator
  (platform) may load any dataset on a provider's behalf.
- `owner_column`: the column naming the organisation a row belongs to (a bank's branch code, a hospital's
  code). A provider other than the operator may send only rows of its own organisation tree; a row of
  another organisation (or of a code the hub does not know) is quarantined with reason
  `not_own_tenant:<column>`, and the rest of the file loads.
- `shared_rows_by`: providers of these kinds (the registry's declared related parties) send shared rows only,
  the owner column blank; a row of theirs naming an owner is quarantined as `not_own_tenant:<column>`.
- `owner_via`: where a row names its owner only through rows already in the lake (a transfer's accounts, a
  guarantee's loan), the row is the provider's when any of those rows belongs to its tree; otherwise it is
  quarantined as `not_own_tenant:<columns>`.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from jinyu.analytics import Lake
from jinyu.analytics.lookup import values_owned_by
from jinyu.core.auth import OrgKind, Principal
from jinyu.governance.contracts import Contract
from jinyu.ingest.errors import DatasetNotProvidable
from jinyu.party import service as party

NOT_OWN_TENANT = "not_own_tenant"


def _acts_for_everyone(principal: Principal) -> bool:
    return principal.org_kind == OrgKind.OPERATOR


def check_provider(principal: Principal, contract: Contract) -> None:
    """Refuse the whole upload when the caller's kind of organisation does not provide the dataset."""
    if _acts_for_everyone(principal) or principal.org_kind in contract.provided_by:
        return
    kinds = ", ".join(sorted(k.value for k in contract.provided_by)) or "operator"
    raise DatasetNotProvidable(
        detail=(
            f"{contract.name} 仅由 {kinds} 提供，调用方为 {principal.org_kind.value} / "
            f"rule provided_by: {contract.name} is provided by {kinds}, not {principal.org_kind.value}"
        ),
        extra={"rule": "provided_by", "dataset": contract.name, "provided_by": sorted(contract.provided_by)},
    )


def foreign_rows_mask(
    session: Session, principal: Principal, contract: Contract, table: pa.Table, lake: Lake
) -> pa.Array | None:
    """True for every row whose owner is outside the caller's organisation tree; None when not checked."""
    if _acts_for_everyone(principal) or table.num_rows == 0:
        return None
    if contract.owner_via:
        return _foreign_via(session, principal, contract, table, lake)
    column = contract.owner_column
    if column is None:
        return None
    if principal.org_kind in contract.shared_rows_by:
        named = pc.is_valid(table[column])  # a shared row leaves the owner blank
        return named.combine_chunks() if isinstance(named, pa.ChunkedArray) else named
    codes = [v for v in pc.unique(table[column]).to_pylist() if v is not None]
    paths = party.org_paths_by_codes(session, principal.org_kind.value, codes)
    own = sorted(code for code, path in paths.items() if path.startswith(principal.org_path))
    inside = pc.is_in(table[column], value_set=pa.array(own, type=pa.string()))
    mask = pc.invert(pc.fill_null(inside, False))
    return mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask


def _foreign_via(
    session: Session, principal: Principal, contract: Contract, table: pa.Table, lake: Lake
) -> pa.Array:
    own_codes = party.org_codes_under(session, principal.org_kind.value, principal.org_path)
    mine = pa.array([False] * table.num_rows, type=pa.bool_())
    for column, target, owner_column in contract.owner_via:
        dataset, key = target.split(".")
        wanted = [v for v in pc.unique(table[column]).to_pylist() if v is not None]
        owned = values_owned_by(lake, dataset, key, wanted, owner_column, own_codes)
        hit = pc.fill_null(
            pc.is_in(table[column], value_set=pa.array(sorted(owned), type=pa.string())), False
        )
        mine = pc.or_(mine, hit.combine_chunks() if isinstance(hit, pa.ChunkedArray) else hit)
    return pc.invert(mine)


def reason(contract: Contract) -> str:
    columns = [c for c, _, _ in contract.owner_via] or [contract.owner_column or ""]
    return f"{NOT_OWN_TENANT}:{','.join(columns)}"
