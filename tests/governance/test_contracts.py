"""Every dataset contract is consistent with itself and the others: keys, references, layout, load order and
the protection of personal data."""

from __future__ import annotations

import pytest

from jinyu.governance.contracts import CONTRACTS, LOAD_ORDER, Check, Contract, Kind, Level, Protect

ALL = list(CONTRACTS.values())


def test_the_load_order_lists_every_contract_once() -> None:
    assert sorted(LOAD_ORDER) == sorted(CONTRACTS) and len(set(LOAD_ORDER)) == len(LOAD_ORDER)


@pytest.mark.parametrize("contract", ALL, ids=lambda c: c.name)
def test_keys_references_and_layout_name_real_columns(contract: Contract) -> None:
    # Key columns are required, except an optional owner column (related_parties.bank_code: empty for the
    # registry's shared rows), whose nulls compare equal at ingestion.
    assert contract.key
    assert all(contract.column(k).required or k == contract.owner_column for k in contract.key)
    for column, target in contract.references.items():
        dataset, target_column = target.split(".")
        assert CONTRACTS[dataset].column(target_column).kind == contract.column(column).kind
        # A referenced dataset loads first (or is the same one: a bank's parent is a bank).
        assert LOAD_ORDER.index(dataset) <= LOAD_ORDER.index(contract.name), (contract.name, target)
    if contract.partition_by:
        assert contract.column(contract.partition_by).kind in (Kind.DATE, Kind.TIMESTAMP, Kind.MONTH)
    for name in (*contract.sort_by, *(c for cols in contract.mirrors.values() for c in cols)):
        contract.column(name)


@pytest.mark.parametrize("contract", ALL, ids=lambda c: c.name)
def test_personal_data_never_reaches_the_lake_in_clear(contract: Contract) -> None:
    for col in contract.columns:
        if col.level == Level.PERSONAL:
            assert col.protect is not None, (contract.name, col.name)
        if col.check == Check.RESIDENT_ID:  # always a person: always the joinable token
            assert (col.protect, col.protect_if) == (Protect.TOKEN, None), (contract.name, col.name)
        for other, value, check in col.check_when:
            if check == Check.RESIDENT_ID:  # a person on these rows: tokenized on (at least) these rows
                assert col.protect == Protect.TOKEN and col.protect_if in (None, (other, value)), col.name


def test_health_data_is_sensitive_and_patients_are_tokens() -> None:
    insured, visits = CONTRACTS["claim_insured"], CONTRACTS["claim_visits"]
    assert insured.column("pre_existing").level == Level.SENSITIVE
    health = [
        c for c in visits.columns if c.kind == Kind.DECIMAL or c.name in ("dise_codg", "special_drug_code")
    ]
    assert len(health) == 14 and {c.level for c in health} == {Level.SENSITIVE}
    assert all(c.min_value == 0 for c in health if c.kind == Kind.DECIMAL)
    for contract in (insured, visits):
        assert contract.column("person_id").protect == Protect.TOKEN
    assert visits.references == {"hospital_code": "institutions.org_code"}
