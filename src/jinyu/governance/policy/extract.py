"""De-identified extracts: read the requested columns through `jinyu.analytics`, pseudonymize, generalise,
suppress, audit (the rules are in `extract_rules`; docs/data-security.md, "De-identified extracts")."""

from __future__ import annotations

import os

from sqlalchemy.orm import Session

from jinyu.analytics import Engine, Lake, Month, NonNegativeInt, Query
from jinyu.audit import service as audit
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import invalid
from jinyu.governance.contracts import CONTRACTS, Contract
from jinyu.governance.errors import DatasetNotLoaded
from jinyu.governance.policy import extract_rules as rules
from jinyu.governance.policy.kanon import RULE, anonymize
from jinyu.governance.policy.protect import current
from jinyu.governance.policy.schemas import ExtractIn, ExtractOut


def extract(
    session: Session, principal: Principal, engine: Engine, lake: Lake, data: ExtractIn
) -> ExtractOut:
    principal.require(Perm.GOVERNANCE_READ_ALL)
    contract = CONTRACTS.get(data.dataset)
    if contract is None:
        raise invalid("dataset", f"未知数据集 / unknown dataset {data.dataset!r}")
    plan = rules.plan(contract, data.columns)
    if (data.from_month or data.to_month) and not contract.partition_by:
        raise invalid("from_month", f"{contract.name} 不按月分区 / is not partitioned by month")
    if not lake.files(contract.name):
        raise DatasetNotLoaded(detail=contract.name)
    read = engine.run_query(_query(contract, plan), **_params(contract, data)).to_pylist()
    key = os.urandom(32)  # this extract's pseudonym key: never stored, so its pseudonyms lead nowhere
    rows = [{c: _value(c, r[c], plan, key) for c in plan.columns} for r in read]
    policy = current()
    done = anonymize(rows, plan.quasi, policy.k_anonymity, policy.k_max_suppressed, plan.person)
    out = ExtractOut(
        dataset=contract.name,
        columns=list(plan.columns),
        rows=[{c: row[c] for c in plan.columns} for row in done.rows],
        rows_read=len(read),
        pseudonymized=list(plan.pseudonymized),
        quasi_identifiers=sorted(plan.quasi),
        counted_by=plan.person or "row",
        disclosure={
            "rule": RULE,
            "k": done.k,
            "suppressed": done.suppressed,
            "generalised": done.generalised,
        },
        policy_version=policy.version,
    )
    audit.record(
        session,
        principal,
        action="policy.extract",
        subject_type="dataset",
        subject_ids=[contract.name],
        purpose=data.reason,
        detail={
            "columns": list(plan.columns),
            "from_month": data.from_month,
            "to_month": data.to_month,
            "rows_read": len(read),
            "rows_out": len(done.rows),
            "pseudonymized": list(plan.pseudonymized),
            "k": done.k,
            "suppressed": done.suppressed,
            "generalised": dict(done.generalised),
            "policy_version": policy.version,
        },
    )
    return out


def _value(column: str, value: object, plan: rules.ExtractPlan, key: bytes) -> object:
    if value is not None and column in plan.pseudonymized:
        return rules.pseudonym(key, str(value))
    return rules.as_text(value)


def _query(contract: Contract, plan: rules.ExtractPlan) -> Query:
    """One read-only SELECT of the planned columns; names come from the contract, never from the caller."""
    cols = ", ".join(f'"{c}"' for c in plan.columns)
    order = ", ".join(f'"{c}"' for c in contract.key)
    where = 'WHERE "month" BETWEEN $from_month AND $to_month ' if contract.partition_by else ""
    params: dict[str, type] = {"limit": NonNegativeInt}
    if contract.partition_by:
        params |= {"from_month": Month, "to_month": Month}
    return Query(
        name=f"policy_extract_{contract.name}",
        sql=f"SELECT {cols} FROM {contract.name} {where}ORDER BY {order} LIMIT $limit",
        params=params,
        description="脱敏提取 / a de-identified extract's rows",
    )


def _params(contract: Contract, data: ExtractIn) -> dict[str, object]:
    params: dict[str, object] = {"limit": data.limit}
    if contract.partition_by:
        params |= {"from_month": data.from_month or "0001-01", "to_month": data.to_month or "9999-12"}
    return params
