"""Every field of every API response is classified by the data-security policy, or listed as not personal."""

from __future__ import annotations

import types
import typing

import pytest

from jinyu.app import create_app
from jinyu.governance.contracts import CONTRACTS
from jinyu.governance.contracts.base import Level
from jinyu.governance.policy.protect import current
from jinyu.governance.policy.rules import Action
from tests.governance.schema_walk import fields, readers, schema_name

APP = create_app()
BELOW_POLICY = ("jinyu.party.", "jinyu.audit.", "jinyu.consent.")
POLICY = current()


def test_every_response_field_is_classified_or_not_personal() -> None:
    missing = sorted(
        f"{schema_name(model)}.{name}"
        for model, name in fields(APP)
        if not POLICY.is_listed(schema_name(model), name)
    )
    assert missing == [], f"classify these in policy.yaml (fields or not_personal): {missing}"


def test_the_walk_reaches_the_read_paths() -> None:
    # Guards the walker itself: if it stopped descending, the test above would pass on nothing.
    names = {f"{schema_name(m)}.{n}" for m, n in fields(APP)}
    for expected in (
        "AccountOut.account_no",
        "EnrollmentOut.person_token",
        "GovSummary.tax_months",
        "LedgerLineOut.counterparty_name",
        "EvidenceStep.account",
        "QuarantinedRow.values",
    ):
        assert expected in names


def test_every_classified_field_that_someone_is_denied_may_be_null() -> None:
    """protect() answers null for withheld values: the response schema must allow it.

    party, audit and consent sit below the policy layer and cannot call protect(): their fields are marked by
    class (the walk above) and protected at the source (masked registrations, pseudonymized audit subjects)."""
    bad = []
    for (model, name), roles in readers(APP).items():
        if model.__module__.startswith(BELOW_POLICY):
            continue
        rule = POLICY.field_class(schema_name(model), name)
        if rule is None:
            continue
        actions = {POLICY.decide(c, [role])[0] for c in rule.classes for role in roles}
        withheld = Action.WITHHOLD in actions
        masked = bool(actions & {Action.MASK, Action.TOKEN})
        annotation = model.model_fields[name].annotation
        if (withheld or (masked and not _texty(annotation))) and not _nullable(annotation):
            bad.append(f"{schema_name(model)}.{name}")
    assert sorted(bad) == []


def test_personal_and_sensitive_contract_columns_are_never_listed_as_not_personal() -> None:
    guarded = {
        c.name
        for contract in CONTRACTS.values()
        for c in contract.columns
        if c.level in (Level.PERSONAL,) or c.protect is not None
    }
    assert guarded, "the contracts name personal columns"
    assert sorted(guarded & POLICY.not_personal) == []


@pytest.mark.parametrize("field", ["account_no", "counterparty_account", "person_token", "id_masked"])
def test_identifier_fields_are_classified(field: str) -> None:
    assert field in POLICY.fields


def _nullable(annotation: object) -> bool:
    return type(None) in typing.get_args(annotation)


def _texty(annotation: object) -> bool:
    args = (
        typing.get_args(annotation)
        if isinstance(annotation, types.UnionType) or typing.get_origin(annotation)
        else (annotation,)
    )
    return all(a in (str, type(None)) or typing.get_origin(a) is list for a in args)
