"""De-identified extracts (脱敏提取), the pure part: which requested column leaves how, and the throwaway
pseudonyms that keep rows of one person linkable inside one extract and nowhere else.

A regulator analyst takes a dataset's rows out of the hub for research or joint modelling. The contract's
classification (`jinyu.governance.classification`) decides each column:

- a **direct identifier** (a resident ID's token, an account number, a masked name) leaves as a pseudonym
  under a key made for this extract and then forgotten: `px_` + 16 hex digits of HMAC-SHA256(key, value). The
  same person has the same pseudonym on every row of the extract, and a different one in every other extract;
  nobody, the hub included, can map it back;
- a **quasi-identifier** (dates and district codes of datasets about persons) is generalised, and rows that
  would still single someone out are left out (k-anonymity, `kanon`), counting distinct persons when the
  dataset has a person column;
- a column of **level 4 or above** (diagnoses, special drugs) is refused: an extract does not carry health
  data, whoever asks;
- any other column leaves as it is (amounts as exact decimal text, dates as ISO text).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jinyu.core.errors import invalid
from jinyu.governance.classification import classify_contract, quasi_identifiers
from jinyu.governance.contracts import Check, Contract

MAX_LEVEL = 3  # JR/T 0197 level: columns above it never leave in an extract


@dataclass(frozen=True)
class ExtractPlan:
    dataset: str
    columns: tuple[str, ...]
    pseudonymized: tuple[str, ...]  # direct identifiers, re-keyed for this extract
    quasi: Mapping[str, str]  # quasi-identifier -> its generalisation ladder (kanon kind)
    person: str | None  # the column whose distinct values are the persons k counts


def plan(contract: Contract, columns: Sequence[str]) -> ExtractPlan:
    """The plan for these columns of the dataset, or InvalidInput naming the columns it refuses."""
    known = {c.column: c for c in classify_contract(contract)}
    wanted = tuple(dict.fromkeys(columns))
    if not wanted:
        raise invalid("columns", "至少选择一列 / name at least one column")
    if unknown := [c for c in wanted if c not in known]:
        raise invalid("columns", f"数据集 {contract.name} 没有这些列 / unknown columns: {unknown}")
    if refused := [c for c in wanted if known[c].jrt0197 > MAX_LEVEL]:
        raise invalid(
            "columns",
            f"4 级及以上数据不可提取 / level 4+ columns never leave in an extract: {refused}",
        )
    quasi = {c: kind for c, kind in quasi_identifiers(contract).items() if c in wanted}
    direct = tuple(c for c in wanted if known[c].identifier == "direct")
    return ExtractPlan(contract.name, wanted, direct, quasi, _person_column(contract, direct))


def _person_column(contract: Contract, direct: Sequence[str]) -> str | None:
    """The requested column naming the person a row is about: a resident ID's token, if one was asked for."""
    by_name = {c.name: c for c in contract.columns}
    for name in direct:
        col = by_name[name]
        if col.check == Check.RESIDENT_ID or any(c == Check.RESIDENT_ID for _, _, c in col.check_when):
            return name
    return None


def pseudonym(key: bytes, value: str) -> str:
    """`px_` + 16 hex digits of HMAC-SHA256(key, value): stable within one extract's key, unlinkable across."""
    return "px_" + hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def as_text(value: Any) -> Any:
    """A lake value as an extract carries it: decimals exact, dates ISO; text, whole numbers, booleans and None
    as they are."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)
