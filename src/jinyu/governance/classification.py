"""Classification of every column (pure): personal information or not, JR/T 0171-2020 class, JR/T 0197-2020
level, identifier kind. Derived from the contract's own metadata by the rules below, so a new column is
classified the moment it is declared; docs/governance.md states the same rules.

- identifier `direct`: the value names a person by itself — a resident ID (checked as one, always or on some
  rows), a pseudonymized or masked column (tokens of IDs and phones, masked names), an account number
  (accounts can be people's);
- identifier `quasi`: dates and district codes of datasets about persons (they single a person out combined);
- personal information: a direct or quasi identifier, a `personal` column, or a `sensitive` column of a
  dataset about persons (amounts, diagnoses);
- JR/T 0171 class: C3 never (the lake holds no authentication data; passwords and keys live hashed in the
  operational store); C2 for direct identifiers and personal `sensitive`/`personal` columns; C1 for the other
  personal columns; none for non-personal columns;
- JR/T 0197 level: C2 → 3, C1 → 2; health data (diagnoses, special drugs of visits) → 4; non-personal:
  public → 1, internal → 2, sensitive → 3. Level 5 (national security) applies to no dataset of the hub.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinyu.governance.contracts import Check, Column, Contract, Kind, Level

# Datasets whose rows can describe a natural person (an account's owner, a shareholder, a patient...).
PERSON_DATASETS = frozenset({"accounts", "transfers", "shareholders", "claim_insured", "claim_visits"})
HEALTH_COLUMNS = frozenset({("claim_visits", "dise_codg"), ("claim_visits", "special_drug_code")})


@dataclass(frozen=True)
class Classification:
    column: str
    level: str  # the contract's own level (public/internal/sensitive/personal)
    personal: bool
    jrt0171: str | None  # C1 / C2 / C3
    jrt0197: int  # 1-5
    identifier: str  # direct / quasi / none


def _identifier(contract: Contract, col: Column) -> str:
    resident = col.check == Check.RESIDENT_ID or any(c == Check.RESIDENT_ID for _, _, c in col.check_when)
    account = col.name.endswith("account") or col.name in ("account_no", "from_account", "to_account")
    if resident or col.protect is not None or (account and contract.name in PERSON_DATASETS):
        return "direct"
    about_persons = contract.name in PERSON_DATASETS
    if about_persons and (col.kind in (Kind.DATE, Kind.TIMESTAMP) or col.name == "district_code"):
        return "quasi"
    return "none"


def classify(contract: Contract, col: Column) -> Classification:
    identifier = _identifier(contract, col)
    personal = (
        identifier != "none"
        or col.level == Level.PERSONAL
        or (col.level == Level.SENSITIVE and contract.name in PERSON_DATASETS)
    )
    if not personal:
        level = {Level.PUBLIC: 1, Level.INTERNAL: 2, Level.SENSITIVE: 3, Level.PERSONAL: 3}[col.level]
        return Classification(col.name, col.level.value, False, None, level, "none")
    c2 = identifier == "direct" or col.level in (Level.SENSITIVE, Level.PERSONAL)
    level = 4 if (contract.name, col.name) in HEALTH_COLUMNS else (3 if c2 else 2)
    return Classification(col.name, col.level.value, True, "C2" if c2 else "C1", level, identifier)


def classify_contract(contract: Contract) -> list[Classification]:
    return [classify(contract, col) for col in contract.columns]


def quasi_identifiers(contract: Contract) -> dict[str, str]:
    """The contract's quasi-identifier columns with the generalisation ladder each climbs under k-anonymity
    (`jinyu.governance.policy.kanon`): a district code its district/city/province ladder, a date or time the
    day/month/year one."""
    return {
        c.column: "district" if c.column == "district_code" else "date"
        for c in classify_contract(contract)
        if c.identifier == "quasi"
    }
