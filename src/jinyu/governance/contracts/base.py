"""Contract types: columns, kinds, classification levels, checks and protection.

Dataset contracts: the documented ingestion format of every dataset the hub takes in.

Each contract names its columns (type, required, classification, check), its key, and how the lake stores it
(partition column, sort order). Ingestion validates against these; the synthetic region writes them; the
docs page `docs/data-formats.md` is generated from them (`jinyu datasets docs`).

Classification levels (数据分级), lowest first:
- public    公开: may be shown to any authenticated user
- internal  内部: platform users with a business need
- sensitive 敏感: shown masked unless the role and a grant allow it
- personal  个人信息: personal identifiers; stored pseudonymized or masked on output
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from jinyu.core.auth import OrgKind
from jinyu.core.privacy import PERSON_DOMAIN


class Kind(StrEnum):
    STRING = "string"
    INT = "int"
    DECIMAL = "decimal"  # yuan, exactly two decimals (fen); Parquet decimal(18,2)
    DATE = "date"  # YYYY-MM-DD
    TIMESTAMP = "timestamp"  # ISO 8601; without an offset it is Asia/Shanghai; stored UTC
    BOOL = "bool"  # true/false/1/0
    MONTH = "month"  # YYYY-MM


class Level(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    SENSITIVE = "sensitive"
    PERSONAL = "personal"


class Protect(StrEnum):
    """How ingestion protects a personal value before it reaches the lake."""

    TOKEN = "token"  # keyed HMAC pseudonym (joinable, not reversible), in the column's token_domain
    MASK_NAME = "mask_name"  # 张** — keeps the family name for display


class Check(StrEnum):
    USCC = "uscc"  # unified social credit code with check character
    RESIDENT_ID = "resident_id"  # resident ID number with check character
    INDUSTRY = "industry"  # GB/T 4754-2017 class code (letter + up to 4 digits, shipped table)
    DISTRICT = "district"  # six-digit administrative division code


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    level: Level
    description: str
    required: bool = True
    check: Check | None = None
    choices: tuple[str, ...] = ()
    min_value: float | None = None
    protect: Protect | None = None
    # The token space of a TOKEN column: resident IDs share the person space everywhere; phones their own.
    token_domain: str = PERSON_DOMAIN
    # Protect only when another column of the row has this value, e.g. ("owner_type", "person").
    protect_if: tuple[str, str] | None = None
    # Checks that depend on another column of the row: (column, value, check), e.g. a party id checked as a
    # USCC when ("party_type", "enterprise") and as a resident ID when ("party_type", "person").
    check_when: tuple[tuple[str, str, Check], ...] = ()


@dataclass(frozen=True)
class Contract:
    name: str
    title: str
    provider: str  # who supplies it (bureau / bank / operator)
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    partition_by: str | None = None  # a MONTH or DATE/TIMESTAMP column; lake partitions by its month
    sort_by: tuple[str, ...] = ()
    registers_parties: bool = False  # also upserts organisations into the operational store
    references: dict[str, str] = field(default_factory=dict)  # column -> "dataset.column" must exist
    mirrors: dict[str, tuple[str, ...]] = field(default_factory=dict)  # extra sorted copies in the lake
    # Which organisation kinds may provide it (the operator always may, loading on a provider's behalf).
    provided_by: frozenset[OrgKind] = frozenset()
    # The column naming the organisation a row belongs to (a bank's branch code, a hospital's code): a
    # provider other than the operator may send only rows of its own organisation tree.
    owner_column: str | None = None
    # Where rows name their owner only through rows already loaded: (column, "dataset.column", that dataset's
    # owner column); a row is its provider's when any of them leads to the provider's own tree. Transfers:
    # either account is the bank's; guarantees: the loan is the bank's.
    owner_via: tuple[tuple[str, str, str], ...] = ()
    # Providers of these kinds send shared rows only: the owner column blank (a registry's declared related
    # parties, seen by every bank); a row naming an owner from them is quarantined as not their own.
    shared_rows_by: frozenset[OrgKind] = frozenset()
    # Non-personal columns written to the lake with a 64-bit hashed key beside them (`<column>__key`,
    # jinyu.analytics.keys): reference checks on them compare integers instead of text.
    hashed: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def col(name: str, kind: Kind, level: Level, description: str, **kw: object) -> Column:
    return Column(name, kind, level, description, **kw)  # type: ignore[arg-type]


S, N, D, DT, TS, B, M = Kind.STRING, Kind.INT, Kind.DECIMAL, Kind.DATE, Kind.TIMESTAMP, Kind.BOOL, Kind.MONTH
PUB, INT, SEN, PER = Level.PUBLIC, Level.INTERNAL, Level.SENSITIVE, Level.PERSONAL
