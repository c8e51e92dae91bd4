"""Rules as data: the shipped set is valid and covers every rule kind; bad rules are refused field by field;
expression conditions can read only the row they judge."""

from __future__ import annotations

import pytest

from jinyu.core.errors import InvalidInput
from jinyu.governance.contracts import CONTRACTS
from jinyu.governance.expressions import qualified_condition
from jinyu.governance.registry import providers, unregistered
from jinyu.governance.rules import Rule, RuleKind, parse_rules
from jinyu.governance.service import standard_rules


def test_the_standard_set_is_valid_and_uses_every_kind() -> None:
    rules = standard_rules()
    assert len(rules) >= 29
    assert {r.kind for r in rules} == set(RuleKind)
    assert len({r.code for r in rules}) == len(rules)
    assert all(r.dataset in CONTRACTS and r.title and " / " in r.title for r in rules)


def test_every_contract_has_exactly_one_registered_provider() -> None:
    assert unregistered() == []
    assert len({p.code for p in providers()}) == len(providers())


BASE = {"code": "loans.term.range", "dataset": "loans", "kind": "range", "title": "期限 / term"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"column": "term_months"}, "min"),  # a range needs a bound
        ({"column": "term_months", "min": "one"}, "min"),
        ({"column": "nope", "min": "1"}, "column"),
        ({"column": "declared_purpose", "min": "1"}, "column"),  # not numeric or a date
        ({"dataset": "nowhere", "column": "term_months", "min": "1"}, "dataset"),
        ({"code": "Bad Code", "column": "term_months", "min": "1"}, "code"),
        ({"kind": "pattern", "column": "loan_id", "pattern": "("}, "pattern"),
        ({"kind": "pattern", "column": "amount", "pattern": "[0-9]+"}, "column"),
        ({"kind": "in_set", "column": "loan_id"}, "values"),
        ({"kind": "in_set", "column": "loan_id", "code_list": "planets"}, "code_list"),
        ({"kind": "reference", "column": "borrower_uscc", "target": "enterprises"}, "target"),
        ({"kind": "reference", "column": "borrower_uscc", "target": "enterprises.nope"}, "target"),
        ({"kind": "unique", "columns": ["loan_id", "ghost"]}, "columns"),
        ({"kind": "freshness", "column": "amount", "max_age_days": 3}, "column"),
        ({"kind": "freshness", "column": "disbursed_at"}, "max_age_days"),
        ({"kind": "drift", "column": "loan_id", "stat": "mean", "bound": 0.1}, "column"),
        ({"kind": "drift", "column": "amount", "stat": "median", "bound": 0.1}, "stat"),
        ({"kind": "expression", "condition": "amount > (SELECT 1)"}, "condition"),
        ({"kind": "expression", "condition": "read_csv('x') IS NULL"}, "condition"),
        ({"kind": "expression", "condition": "other.amount > 0"}, "condition"),
        ({"kind": "expression", "condition": "ghost > 0"}, "condition"),
        ({"kind": "expression", "condition": "now() > disbursed_at"}, "condition"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        Rule.model_validate(BASE | change)
    assert [f.field for f in err.value.fields] == [field]


def test_yaml_errors_name_the_rule_and_field() -> None:
    text = """
rules:
  - {code: loans.term.range, dataset: loans, kind: range, column: term_months, min: "1", title: "t / t"}
  - {code: loans.term.range, dataset: loans, kind: range, column: term_months, max: "x", title: "t / t"}
  - {code: loans.other, dataset: loans, kind: not_null, column: loan_id, title: "t / t", colour: red}
"""
    with pytest.raises(InvalidInput) as err:
        parse_rules(text, "mine.yaml")
    fields = [f.field for f in err.value.fields]
    assert "rules[1].max" in fields and any(f.startswith("rules[2]") for f in fields)
    with pytest.raises(InvalidInput):
        parse_rules("rules: {}", "x.yaml")
    with pytest.raises(InvalidInput):
        parse_rules("rules: [", "x.yaml")


def test_conditions_read_only_the_judged_row() -> None:
    sql = qualified_condition("psn_cash_pay + hifp_pay <= medfee_sumamt", CONTRACTS["claim_visits"], "t")
    assert sql == '"t"."psn_cash_pay" + "t"."hifp_pay" <= "t"."medfee_sumamt"'
