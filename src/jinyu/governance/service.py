"""Governance use cases: the rule set, quality checks over the lake, the anomaly-rate report.

Takes the session first, then the principal; never commits (the boundary does). Remediation lives in
`remediation.py`; the check opens and closes its items.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.analytics import Engine, Lake
from jinyu.audit import service as audit
from jinyu.core.auth import Perm, Principal
from jinyu.core.clock import local, utcnow
from jinyu.core.errors import invalid
from jinyu.governance import incremental, rate, rejections, remediation, scope, versions
from jinyu.governance.checkcache import DbCheckCache
from jinyu.governance.classification import classify_contract
from jinyu.governance.contracts import CONTRACTS, LOAD_ORDER
from jinyu.governance.errors import DatasetNotFound, DatasetNotLoaded, RuleAlreadyRetired, RuleNotFound
from jinyu.governance.models import CheckResult, CheckRun, QualityRule
from jinyu.governance.registry import provider_of
from jinyu.governance.rules import AS_OF, Rule, RuleKind, parse_rules
from jinyu.governance.schemas import (
    CheckRunOut,
    ColumnClassOut,
    ContractVersionOut,
    ReportOut,
    RuleFailures,
    RuleOut,
    TrendPoint,
)
from jinyu.governance.sqlplan import compile_plan

DEFINITION = (
    "数据异常率 = 至少违反一条行级规则的记录数 ÷ 检查的记录数（按提供方、数据集、月份；合并时分子分母分别相加） / "
    "anomaly rate = records failing at least one active row-level rule ÷ records checked, per provider, "
    "dataset and month; combined by adding numerators and denominators. See docs/governance.md."
)


def standard_rules() -> list[Rule]:
    text = resources.files("jinyu.governance").joinpath("standard_rules.yaml").read_text(encoding="utf-8")
    return parse_rules(text, "standard_rules.yaml")


def _stored(session: Session) -> dict[str, QualityRule]:
    latest: dict[str, QualityRule] = {}
    for row in session.scalars(select(QualityRule).order_by(QualityRule.code, QualityRule.version)):
        latest[row.code] = row
    return latest


def effective_rules(session: Session) -> list[tuple[Rule, str]]:
    """Every rule in force: the shipped set, each replaced by its latest API version, plus API-only rules."""
    stored = _stored(session)
    rules = {r.code: (r, "standard") for r in standard_rules()}
    for code, row in stored.items():
        rules[code] = (Rule.model_validate(row.body), "api")
    return sorted(rules.values(), key=lambda pair: pair[0].code)


def _out(rule: Rule, source: str) -> RuleOut:
    return RuleOut(
        code=rule.code,
        dataset=rule.dataset,
        kind=rule.kind.value,
        category=rule.category.value,
        title=rule.title,
        version=rule.version,
        active=rule.active,
        source=source,
        body=rule.model_dump(mode="json", exclude_defaults=True),
    )


def list_rules(session: Session, principal: Principal, dataset: str | None = None) -> list[RuleOut]:
    principal.require(Perm.GOVERNANCE_READ)
    return [_out(r, s) for r, s in effective_rules(session) if dataset in (None, r.dataset)]


def get_rule(session: Session, principal: Principal, code: str) -> RuleOut:
    for out in list_rules(session, principal):
        if out.code == code:
            return out
    raise RuleNotFound(detail=code)


def put_rule(session: Session, principal: Principal, rule: Rule) -> RuleOut:
    """Add a rule or a new version of one (standard ones included); earlier versions stay on record."""
    principal.require(Perm.GOVERNANCE_MANAGE)
    current = {r.code: r for r, _ in effective_rules(session)}.get(rule.code)
    if current is not None and current.dataset != rule.dataset:
        raise invalid(
            "dataset", f"规则 {rule.code} 属于 {current.dataset} / the rule belongs to {current.dataset}"
        )
    version = (current.version + 1) if current else 1
    rule = rule.model_copy(update={"version": version})
    session.add(
        QualityRule(
            code=rule.code,
            version=version,
            dataset=rule.dataset,
            body=rule.model_dump(mode="json"),
            created_by=principal.subject_id,
        )
    )
    session.flush()
    audit.record(
        session,
        principal,
        action="governance.rule.put",
        subject_type="quality_rule",
        subject_ids=[rule.code],
        detail={"version": version, "dataset": rule.dataset},
    )
    return _out(rule, "api")


def retire_rule(session: Session, principal: Principal, code: str, reason: str) -> RuleOut:
    """Retire a rule: a new version with `active: false`, so checks stop applying it while every earlier
    version (and each run's `code@version`) stays on record. Nothing is deleted: a later PUT with
    `active: true` brings it back as a further version. Audited with the reason."""
    principal.require(Perm.GOVERNANCE_MANAGE)
    if not reason.strip():
        raise invalid("reason", "需要停用原因 / a reason is required")
    current = {r.code: r for r, _ in effective_rules(session)}.get(code)
    if current is None:
        raise RuleNotFound(detail=code)
    if not current.active:
        raise RuleAlreadyRetired(detail=f"{code}@{current.version}")
    version = current.version + 1
    rule = current.model_copy(update={"version": version, "active": False})
    session.add(
        QualityRule(
            code=code,
            version=version,
            dataset=rule.dataset,
            body=rule.model_dump(mode="json"),
            created_by=principal.subject_id,
        )
    )
    session.flush()
    audit.record(
        session,
        principal,
        action="governance.rule.retire",
        subject_type="quality_rule",
        subject_ids=[code],
        detail={"version": version, "dataset": rule.dataset, "reason": reason.strip()},
    )
    return _out(rule, "api")


def today() -> dt.date:
    return local(utcnow()).date()


def check(
    session: Session,
    principal: Principal,
    engine: Engine,
    lake: Lake,
    dataset: str | None = None,
    *,
    as_of: dt.date | None = None,
    trigger: str = "manual",
    load_id: str | None = None,
    full: bool = False,
) -> list[CheckRunOut]:
    """Check one dataset (or every loaded one) with every rule in force; store the results, open, update and
    verify remediation items. One SQL scan per dataset, over the files not yet checked under the same rules,
    check day and referenced data (`incremental`); `full` scans every file again."""
    principal.require(Perm.GOVERNANCE_MANAGE)
    if dataset is not None and dataset not in CONTRACTS:
        raise invalid("dataset", f"未知数据集 / unknown dataset {dataset!r}")
    loaded = {d for d in CONTRACTS if lake.files(d)}
    if dataset is not None and dataset not in loaded:
        raise DatasetNotLoaded(detail=dataset)
    rules = [r for r, _ in effective_rules(session)]
    names = [dataset] if dataset else [d for d in LOAD_ORDER if d in loaded]
    return [
        _check_one(
            session, principal, engine, lake, name, rules, loaded, as_of or today(), trigger, load_id, full
        )
        for name in names
    ]


def keyed_columns(lake: Lake, dataset: str, rules: list[Rule]) -> set[str]:
    """The "dataset.column"s with hashed keys in the lake, of `dataset` and its rules' reference targets."""
    names = {dataset, *((r.target or ".").split(".")[0] for r in rules if r.kind == RuleKind.REFERENCE)}
    return {f"{d}.{c}" for d in sorted(names) if d for c in lake.keyed_columns(d)}


def _check_one(
    session: Session,
    principal: Principal,
    engine: Engine,
    lake: Lake,
    dataset: str,
    rules: list[Rule],
    loaded: set[str],
    as_of: dt.date,
    trigger: str,
    load_id: str | None,
    full: bool,
) -> CheckRunOut:
    started = utcnow()
    contract = CONTRACTS[dataset]
    plan = compile_plan(
        dataset,
        rules,
        loaded,
        contract.partition_by is not None,
        source=incremental.SOURCE,
        keyed=keyed_columns(lake, dataset, rules),
    )
    files = {d: lake.files(d) for d in {dataset, *plan.depends_on}}
    scanned = incremental.scan(engine, plan, {AS_OF: as_of}, files, DbCheckCache(session), full=full)
    rows = scanned.rows
    default_provider = provider_of(dataset).code
    period = as_of.strftime("%Y-%m")
    waiting = rejections.outstanding(session, dataset)
    if (
        not plan.by_period
    ):  # a dataset without periods is checked as a snapshot: everything in the check's month
        snapshot: Counter[tuple[str, str, str]] = Counter()
        for (who, _, reason), n in waiting.items():
            snapshot[(who, period, reason)] += n
        waiting = snapshot
    cells = rate.with_rejections(rate.cells(plan, rows, default_provider, period), waiting)
    totals = [c for c in cells if c.rule_code == rate.ALL_RULES]
    run = CheckRun(
        dataset=dataset,
        trigger=trigger,
        load_id=load_id,
        as_of=as_of,
        engine=engine.kind,
        rule_set=[f"{r.code}@{r.version}" for r in (*plan.row_rules, *plan.freshness, *plan.drift)],
        findings={
            "skipped": plan.skipped,
            "freshness": rate.freshness(plan, rows, default_provider, as_of),
            "drift": rate.drift(plan, rows, default_provider),
            "scan": scanned.explain(),
        },
        rows_checked=sum(c.checked for c in totals),
        rows_anomalous=sum(c.failed for c in totals),
        started_at=started,
        finished_at=utcnow(),
    )
    session.add(run)
    session.flush()
    session.add_all(
        CheckResult(
            run_id=run.id,
            dataset=dataset,
            provider=c.provider,
            period=c.period,
            rule_code=c.rule_code,
            rule_version=c.rule_version,
            checked=c.checked,
            failed=c.failed,
        )
        for c in cells
    )
    remediation.after_check(
        session, run, [c for c in cells if c.rule_code != rate.ALL_RULES], snapshot=not plan.by_period
    )
    audit.record(
        session,
        principal,
        action="governance.check",
        subject_type="dataset",
        subject_ids=[dataset, run.id],
        detail={"checked": run.rows_checked, "anomalous": run.rows_anomalous, "trigger": trigger},
    )
    out = CheckRunOut.model_validate(run)
    return out.model_copy(update={"anomaly_rate_pct": rate.percent(run.rows_anomalous, run.rows_checked)})


def _latest_runs(session: Session, dataset: str | None) -> list[CheckRun]:
    """The latest run of each dataset; for a dataset checked as a snapshot (no month partition), the latest
    run of each month, so that its months keep their own figures."""
    latest: dict[tuple[str, str], CheckRun] = {}
    stmt = select(CheckRun).order_by(CheckRun.finished_at, CheckRun.id)
    if dataset:
        stmt = stmt.where(CheckRun.dataset == dataset)
    for run in session.scalars(stmt):
        snapshot = run.dataset in CONTRACTS and CONTRACTS[run.dataset].partition_by is None
        latest[(run.dataset, run.as_of.strftime("%Y-%m") if snapshot else "")] = run
    return list(latest.values())


def report(
    session: Session, principal: Principal, *, provider: str | None = None, dataset: str | None = None
) -> ReportOut:
    """The anomaly-rate trend per provider and month (and year), from each dataset's latest check, with the
    rules behind it. A provider's own staff see their own organisation's figures only."""
    principal.require(Perm.GOVERNANCE_READ)
    visible = scope.provider_codes(session, principal)
    runs = _latest_runs(session, dataset)
    stmt = select(CheckResult).where(CheckResult.run_id.in_([r.id for r in runs]))
    if provider:
        stmt = stmt.where(CheckResult.provider == provider)
    trend: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    years: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    by_rule: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for c in session.scalars(stmt):
        if visible is not None and c.provider not in visible:
            continue
        if c.rule_code == rate.ALL_RULES:
            for key, acc in (((c.provider, c.period), trend), ((c.provider, c.period[:4]), years)):
                acc[key][0] += c.checked
                acc[key][1] += c.failed
        else:
            cell = by_rule[(c.provider, c.dataset, c.rule_code)]
            cell[0] += c.checked
            cell[1] += c.failed

    def points(acc: dict[tuple[str, str], list[int]]) -> list[TrendPoint]:
        return [
            TrendPoint(provider=p, period=m, checked=n, anomalous=a, anomaly_rate_pct=rate.percent(a, n))
            for (p, m), (n, a) in sorted(acc.items())
        ]

    rules = [
        RuleFailures(
            provider=p, dataset=d, rule_code=r, checked=n, failed=f, failure_rate_pct=rate.percent(f, n)
        )
        for (p, d, r), (n, f) in sorted(by_rule.items(), key=lambda kv: (kv[0][0], -kv[1][1], kv[0][2]))
        if f > 0
    ]
    return ReportOut(
        definition=DEFINITION,
        trend=points(trend),
        by_year=points(years),
        rules=rules,
        runs=[r.id for r in runs],
    )


def contract_versions(principal: Principal, dataset: str | None = None) -> list[ContractVersionOut]:
    """Each contract's version, its history of column changes and the classification of every column."""
    principal.require(Perm.GOVERNANCE_READ)
    if dataset is not None and dataset not in CONTRACTS:
        raise DatasetNotFound(detail=dataset)
    known = versions.history()
    out = []
    for name in [dataset] if dataset else list(CONTRACTS):
        contract = CONTRACTS[name]
        past = known.get(name, [])
        recorded = bool(past) and past[-1]["columns"] == versions.columns_of(contract)
        kinds = versions.columns_of(contract)
        columns = [
            ColumnClassOut(
                column=c.column,
                kind=kinds[c.column],
                level=c.level,
                personal=c.personal,
                jrt0171=c.jrt0171,
                jrt0197=c.jrt0197,
                identifier=c.identifier,
            )
            for c in classify_contract(contract)
        ]
        version = len(past) if recorded else len(past) + 1
        out.append(
            ContractVersionOut(
                dataset=name, version=version, recorded=recorded, columns=columns, history=past
            )
        )
    return out
