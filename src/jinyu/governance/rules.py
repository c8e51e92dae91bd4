"""Quality rules as data: the rule model, its kinds, and the check of a rule against its dataset's contract.

A rule is a small record (YAML in `standard_rules.yaml`, JSON through the API); the common kinds need no code.
Row-level kinds mark individual records as failing and so count towards the anomaly rate; dataset-level kinds
(freshness, drift) judge a dataset, a provider or a period as a whole and are reported beside it.
See docs/governance.md for every kind's exact failure condition.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from jinyu.core.errors import FieldError, InvalidInput, invalid
from jinyu.governance.contracts import CONTRACTS, Contract, Kind


class RuleKind(StrEnum):
    NOT_NULL = "not_null"
    PATTERN = "pattern"
    IN_SET = "in_set"
    RANGE = "range"
    EXPRESSION = "expression"
    UNIQUE = "unique"
    REFERENCE = "reference"
    CHECK_DIGIT = "check_digit"
    WITHIN_FILING_PERIOD = "within_filing_period"
    FRESHNESS = "freshness"
    DRIFT = "drift"


class Category(StrEnum):
    COMPLETENESS = "completeness"  # 完整性
    VALIDITY = "validity"  # 有效性
    CONSISTENCY = "consistency"  # 一致性
    UNIQUENESS = "uniqueness"  # 唯一性
    TIMELINESS = "timeliness"  # 及时性
    DRIFT = "drift"  # 分布漂移


CATEGORY: dict[RuleKind, Category] = {
    RuleKind.NOT_NULL: Category.COMPLETENESS,
    RuleKind.PATTERN: Category.VALIDITY,
    RuleKind.IN_SET: Category.VALIDITY,
    RuleKind.RANGE: Category.VALIDITY,
    RuleKind.EXPRESSION: Category.CONSISTENCY,
    RuleKind.UNIQUE: Category.UNIQUENESS,
    RuleKind.REFERENCE: Category.CONSISTENCY,
    RuleKind.CHECK_DIGIT: Category.VALIDITY,
    RuleKind.WITHIN_FILING_PERIOD: Category.CONSISTENCY,
    RuleKind.FRESHNESS: Category.TIMELINESS,
    RuleKind.DRIFT: Category.DRIFT,
}
ROW_KINDS = frozenset(
    {
        RuleKind.NOT_NULL,
        RuleKind.PATTERN,
        RuleKind.IN_SET,
        RuleKind.RANGE,
        RuleKind.EXPRESSION,
        RuleKind.UNIQUE,
        RuleKind.REFERENCE,
        RuleKind.CHECK_DIGIT,
        RuleKind.WITHIN_FILING_PERIOD,
    }
)
CHECK_SCHEMES = ("resident_id", "uscc", "luhn")  # see governance/checkdigits.py
CODE_LISTS = ("industry", "district")  # shipped tables (GB/T 4754-2017 classes, Chongqing district codes)
AS_OF = "as_of"  # a range bound meaning "the day of the check"
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
_NUMERIC = (Kind.INT, Kind.DECIMAL)
_TEMPORAL = (Kind.DATE, Kind.TIMESTAMP, Kind.MONTH)


class Rule(BaseModel):
    """One quality rule attached to one dataset. `code` names it for good; edits make a new `version`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=3, max_length=80, description="规则编号 / rule code, e.g. loans.term.range")
    dataset: str
    kind: RuleKind
    title: str = Field(min_length=1, max_length=200, description="中文在前 / Chinese first, then English")
    column: str | None = None
    columns: list[str] = Field(
        default_factory=list, description="unique: the key columns; within_filing_period: the filer's"
    )
    total_of: str | None = Field(
        default=None, description="within_filing_period: the column whose period total bounds `column`"
    )
    pattern: str | None = Field(default=None, max_length=200, description="pattern: a full-match regex")
    values: list[str] = Field(default_factory=list, description="in_set: the allowed values")
    code_list: str | None = Field(default=None, description="in_set: 'industry' or 'district'")
    min: str | None = Field(default=None, description="range: lowest allowed value (inclusive)")
    max: str | None = Field(
        default=None, description="range: highest allowed (inclusive); 'as_of' = check day"
    )
    condition: str | None = Field(default=None, max_length=500, description="expression: must hold per row")
    target: str | None = Field(default=None, description="reference: 'dataset.column' that must exist")
    scheme: str | None = Field(default=None, description="check_digit: 'resident_id', 'uscc' or 'luhn'")
    max_age_days: int | None = Field(default=None, ge=0, le=3660, description="freshness: promised delay")
    stat: str | None = Field(default=None, description="drift: 'null_share' or 'mean'")
    bound: float | None = Field(default=None, gt=0, description="drift: largest allowed change")
    version: int = Field(default=1, ge=1)
    active: bool = True

    @model_validator(mode="after")
    def _fits_kind(self) -> Rule:
        check_rule(self)
        return self

    @property
    def category(self) -> Category:
        return CATEGORY[self.kind]

    @property
    def row_level(self) -> bool:
        return self.kind in ROW_KINDS


def _need(ok: bool, field: str, message: str) -> None:
    if not ok:
        raise invalid(field, message)


def check_rule(rule: Rule) -> None:
    """Raise `InvalidInput` naming the field when the rule does not fit its kind or its dataset's contract."""
    _need(
        bool(_CODE_RE.match(rule.code)),
        "code",
        "规则编号形如 dataset.column.kind / code like loans.term.range",
    )
    contract = CONTRACTS.get(rule.dataset)
    _need(contract is not None, "dataset", f"未知数据集 / unknown dataset {rule.dataset!r}")
    assert contract is not None
    needs_column = rule.kind not in (RuleKind.EXPRESSION, RuleKind.UNIQUE)
    if needs_column:
        _need(rule.column is not None, "column", "此类规则需要列 / this kind needs a column")
        _need(rule.column in contract.column_names, "column", f"{rule.dataset} 没有列 {rule.column!r}")
    _KIND_CHECKS[rule.kind](rule, contract)


def _kind_of(rule: Rule, contract: Contract) -> Kind:
    return contract.column(rule.column or "").kind


def _pattern(rule: Rule, contract: Contract) -> None:
    _need(rule.pattern is not None, "pattern", "需要正则 / a pattern is required")
    try:
        re.compile(rule.pattern or "")
    except re.error as exc:
        raise invalid("pattern", f"正则无效 / invalid regex: {exc}") from None
    _need("'" not in (rule.pattern or ""), "pattern", "正则不能含单引号 / no single quotes")
    _need(_kind_of(rule, contract) == Kind.STRING, "column", "正则只用于文本列 / text columns only")


def _in_set(rule: Rule, contract: Contract) -> None:
    _need(bool(rule.values) != (rule.code_list is not None), "values", "values 与 code_list 二选一 / one of")
    _need(rule.code_list in (None, *CODE_LISTS), "code_list", f"可用 / known: {', '.join(CODE_LISTS)}")


def _range(rule: Rule, contract: Contract) -> None:
    _need(rule.min is not None or rule.max is not None, "min", "需要 min 或 max / min or max is required")
    kind = _kind_of(rule, contract)
    _need(kind in (*_NUMERIC, Kind.DATE, Kind.TIMESTAMP), "column", "数值或日期列 / numeric or date column")
    for name in ("min", "max"):
        value = getattr(rule, name)
        if value is None or value == AS_OF:
            continue
        if kind in _NUMERIC:
            _need(bool(re.fullmatch(r"-?\d{1,15}(\.\d{1,4})?", value)), name, "须为数字 / must be a number")
        else:
            _need(bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)), name, "须为 YYYY-MM-DD / must be a date")


def _expression(rule: Rule, contract: Contract) -> None:
    from jinyu.governance.expressions import check_condition  # sqlglot is needed only for this kind

    _need(rule.condition is not None, "condition", "需要条件 / a condition is required")
    check_condition(rule.condition or "", contract)


def _unique(rule: Rule, contract: Contract) -> None:
    _need(bool(rule.columns), "columns", "需要键列 / key columns are required")
    for name in rule.columns:
        _need(name in contract.column_names, "columns", f"{rule.dataset} 没有列 {name!r}")


def _reference(rule: Rule, contract: Contract) -> None:
    target = (rule.target or "").split(".")
    _need(len(target) == 2, "target", "形如 dataset.column / like dataset.column")
    other = CONTRACTS.get(target[0])
    _need(other is not None and target[1] in other.column_names, "target", f"未知 / unknown {rule.target!r}")


def _check_digit(rule: Rule, contract: Contract) -> None:
    _need(rule.scheme in CHECK_SCHEMES, "scheme", f"可用 / known: {', '.join(CHECK_SCHEMES)}")
    _need(_kind_of(rule, contract) == Kind.STRING, "column", "校验位只用于文本列 / text columns only")


def _within_filing_period(rule: Rule, contract: Contract) -> None:
    _unique(rule, contract)
    _need(rule.total_of in contract.column_names, "total_of", f"{rule.dataset} 没有列 {rule.total_of!r}")
    for name in (rule.column, rule.total_of):
        _need(contract.column(name or "").kind in _NUMERIC, "column", "数值列 / numeric columns only")
    period = contract.partition_by
    _need(
        period is not None and contract.column(period).kind == Kind.MONTH,
        "dataset",
        "需按月份列分区的数据集 / the dataset must be partitioned by a YYYY-MM month column",
    )


def _freshness(rule: Rule, contract: Contract) -> None:
    _need(rule.max_age_days is not None, "max_age_days", "需要承诺时效 / the promised delay is required")
    _need(_kind_of(rule, contract) in _TEMPORAL, "column", "日期或月份列 / a date, time or month column")


def _drift(rule: Rule, contract: Contract) -> None:
    _need(rule.stat in ("null_share", "mean"), "stat", "null_share 或 mean / null_share or mean")
    _need(rule.bound is not None, "bound", "需要上限 / a bound is required")
    if rule.stat == "mean":
        _need(
            _kind_of(rule, contract) in _NUMERIC, "column", "均值只用于数值列 / mean needs a numeric column"
        )


def _not_null(rule: Rule, contract: Contract) -> None:
    return None


_KIND_CHECKS = {
    RuleKind.NOT_NULL: _not_null,
    RuleKind.PATTERN: _pattern,
    RuleKind.IN_SET: _in_set,
    RuleKind.RANGE: _range,
    RuleKind.EXPRESSION: _expression,
    RuleKind.UNIQUE: _unique,
    RuleKind.REFERENCE: _reference,
    RuleKind.CHECK_DIGIT: _check_digit,
    RuleKind.WITHIN_FILING_PERIOD: _within_filing_period,
    RuleKind.FRESHNESS: _freshness,
    RuleKind.DRIFT: _drift,
}


def parse_rules(text: str, source: str = "rules") -> list[Rule]:
    """Rules from YAML text (`rules:` a list of mappings); every bad rule is named with its field."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise invalid(source, f"YAML 无法解析 / YAML does not parse: {exc}") from None
    items = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise invalid(source, "需要 rules: 列表 / expected a top-level `rules:` list")
    rules: list[Rule] = []
    errors: list[FieldError] = []
    for i, item in enumerate(items):
        try:
            rules.append(Rule.model_validate(item))
        except InvalidInput as exc:
            errors.extend(FieldError(f"rules[{i}].{f.field}", f.message) for f in exc.fields)
        except ValidationError as exc:
            errors.extend(
                FieldError(f"rules[{i}]." + ".".join(str(p) for p in e["loc"]), e["msg"])
                for e in exc.errors()
            )
    codes = [r.code for r in rules]
    errors.extend(
        FieldError("rules", f"规则编号重复 / repeated code {c}")
        for c in sorted(set(codes))
        if codes.count(c) > 1
    )
    if errors:
        raise InvalidInput(detail=f"{source}: 规则无效 / invalid rules", fields=errors)
    return rules
