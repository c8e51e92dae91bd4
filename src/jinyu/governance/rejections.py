"""Records ingestion rejected, kept by key so that a corrected resubmission cures them.

Ingestion calls `record_load` inside the load's transaction with the rejected rows (raw, as in the file) and
the keys it accepted. A rejected record is *outstanding* until a later load accepts a record with the same key;
while outstanding it counts, in the anomaly rate, as a checked and anomalous record of its provider and period
(reason `ingest.<reason code>`). Re-sent records whose key is already in the lake (`duplicate_key_existing`) are
not recorded: the lake holds that record. Contracts whose key has a pseudonymized column are not matched (a
raw key cannot be compared with its token); their rejections stay outstanding until an operator resolves them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jinyu.governance.contracts import Contract
from jinyu.governance.models import Rejection
from jinyu.governance.registry import provider_of

_MONTH = re.compile(r"^\d{4}-\d{2}")
NOT_A_DEFECT = ("duplicate_key_existing",)


def key_text(values: Iterable[Any]) -> str:
    return "|".join("" if v is None else str(v).strip() for v in values)


def matchable(contract: Contract) -> bool:
    return all(contract.column(k).protect is None for k in contract.key)


def _provider(contract: Contract, raw: dict[str, Any]) -> str:
    if contract.owner_column and raw.get(contract.owner_column):
        return str(raw[contract.owner_column]).strip()[:64]
    return provider_of(contract.name).code


def _period(contract: Contract, raw: dict[str, Any], loaded_on: dt.date) -> str:
    value = str(raw.get(contract.partition_by or "", "") or "").strip()
    return value[:7] if contract.partition_by and _MONTH.match(value) else loaded_on.strftime("%Y-%m")


def record_load(
    session: Session,
    contract: Contract,
    load_id: str,
    rejected: Sequence[tuple[list[str], dict[str, Any]]],
    accepted_keys: Sequence[str],
    loaded_on: dt.date,
) -> dict[str, int]:
    """Store this load's rejections and mark outstanding ones cured by its accepted keys; returns counts."""
    cured = 0
    if accepted_keys and matchable(contract):
        for chunk in range(0, len(accepted_keys), 500):
            keys = list(accepted_keys[chunk : chunk + 500])
            result = session.execute(
                update(Rejection)
                .where(Rejection.dataset == contract.name, Rejection.resolved_by_load.is_(None))
                .where(Rejection.key_text.in_(keys))
                .values(resolved_by_load=load_id)
                .execution_options(synchronize_session=False)
            )
            cured += int(getattr(result, "rowcount", 0) or 0)
    recorded = 0
    for problems, raw in rejected:
        reason = problems[0].split(":")[0] if problems else "unreadable"
        if reason in NOT_A_DEFECT:
            continue
        session.add(
            Rejection(
                dataset=contract.name,
                provider=_provider(contract, raw),
                period=_period(contract, raw, loaded_on),
                key_text=key_text(raw.get(k) for k in contract.key)[:300],
                reason=reason[:80],
                load_id=load_id,
            )
        )
        recorded += 1
    session.flush()
    return {"rejections_recorded": recorded, "rejections_cured": cured}


def outstanding(session: Session, dataset: str) -> Counter[tuple[str, str, str]]:
    """Outstanding rejections of a dataset by (provider, period, reason)."""
    stmt = select(Rejection.provider, Rejection.period, Rejection.reason).where(
        Rejection.dataset == dataset, Rejection.resolved_by_load.is_(None)
    )
    return Counter((p, m, r) for p, m, r in session.execute(stmt))
