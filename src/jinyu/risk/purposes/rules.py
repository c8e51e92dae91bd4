"""Loan purposes (a code list) and the purpose × misuse-kind matrix: pure values and checks.

The matrix says, for every declared purpose and every kind of use tracing finds, whether that use is
prohibited for a loan of that purpose (贷款用途与资金流向的相容性). It is versioned data the regulator
changes through the API or the CLI (`service.py`); this module holds the built-in default (version 0, in
force until a version is stored) and the checks every stored version passes. A misuse finding names the
matrix version and the line (`purpose×kind`) that made it prohibited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# The declared purposes (贷款用途代码), in the order documented in docs/risk-tracing.md.
PURPOSES: dict[str, tuple[str, str]] = {
    "working_capital": ("流动资金", "working capital"),
    "raw_materials": ("原材料采购", "raw materials"),
    "equipment": ("设备购置", "equipment"),
    "construction": ("工程建设", "construction"),
    "technology_upgrade": ("技术改造", "technology upgrade"),
    "rnd": ("研发", "R&D"),
    "trade": ("贸易", "trade"),
    "trade_finance": ("贸易融资", "trade finance"),
    "real_estate_development": ("房地产开发", "real-estate development"),
    "property_purchase": ("购置经营性物业", "property purchase"),
    "equity_acquisition": ("并购（股权收购）", "equity acquisition"),
    "refinancing": ("借新还旧（置换存量贷款）", "refinancing"),
    "other": ("其他", "other"),
}
# Kinds of use the matrix decides on: tracing's misuse kinds, and repayment of a loan reached through an
# unrelated intermediary (借新还旧 hidden behind a third party).
MATRIX_KINDS: tuple[str, ...] = ("securities", "real_estate", "other_loan", "intermediary_repayment", "shell")

# What each purpose permits; every other (purpose, kind) is prohibited. A real-estate development loan pays
# developers, a property purchase pays the seller's (developer's) escrow, an equity acquisition settles
# through securities accounts, a refinancing loan repays the loan it refinances, directly or not. Shells
# are never a permitted use.
_PERMITTED: dict[str, frozenset[str]] = {
    "real_estate_development": frozenset({"real_estate"}),
    "property_purchase": frozenset({"real_estate"}),
    "equity_acquisition": frozenset({"securities"}),
    "refinancing": frozenset({"other_loan", "intermediary_repayment"}),
}


@dataclass(frozen=True)
class Entry:
    purpose: str
    kind: str
    prohibited: bool


def rule_id(purpose: str, kind: str) -> str:
    """The name of a matrix line, as a finding cites it."""
    return f"{purpose}×{kind}"


def default_entries() -> list[Entry]:
    return [Entry(p, k, k not in _PERMITTED.get(p, frozenset())) for p in PURPOSES for k in MATRIX_KINDS]


def problems(entries: Iterable[Entry]) -> list[tuple[str, str]]:
    """(field, message) for every problem: unknown purposes or kinds, repeated lines, missing lines.

    A stored matrix is complete: one line for every purpose and kind, so what a finding cites is never
    guessed."""
    out: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for i, e in enumerate(entries):
        where = f"entries[{i}]"
        if e.purpose not in PURPOSES:
            out.append((f"{where}.purpose", f"未知用途 / unknown purpose {e.purpose!r}"))
        if e.kind not in MATRIX_KINDS:
            out.append((f"{where}.kind", f"未知资金用途类别 / unknown kind {e.kind!r}"))
        if (e.purpose, e.kind) in seen:
            out.append((where, f"重复的矩阵行 / line {rule_id(e.purpose, e.kind)} given twice"))
        seen.add((e.purpose, e.kind))
    missing = [rule_id(p, k) for p in PURPOSES for k in MATRIX_KINDS if (p, k) not in seen]
    if missing:
        out.append(("entries", f"缺少矩阵行 / missing lines: {', '.join(missing)}"))
    return out


@dataclass(frozen=True)
class Matrix:
    """A matrix version in force: look up whether a use is prohibited for a purpose, and which line says so."""

    version: int
    prohibited: Mapping[tuple[str, str], bool]

    @classmethod
    def of(cls, version: int, entries: Iterable[Entry]) -> Matrix:
        return cls(version, {(e.purpose, e.kind): e.prohibited for e in entries})

    def is_prohibited(self, purpose: str, kind: str) -> bool:
        """A purpose outside the code list is held to the strictest line: every kind prohibited."""
        return self.prohibited.get((purpose, kind), True)

    def prohibited_kinds(self, purpose: str) -> frozenset[str]:
        return frozenset(k for k in MATRIX_KINDS if self.is_prohibited(purpose, k))

    def cite(self, purpose: str, kind: str) -> str:
        """`purpose-matrix v3: refinancing×other_loan` — or the strict fallback for an unknown purpose."""
        if (purpose, kind) not in self.prohibited:
            return f"purpose-matrix v{self.version}: unknown purpose {purpose!r}, every use prohibited"
        return f"purpose-matrix v{self.version}: {rule_id(purpose, kind)}"


DEFAULT = Matrix.of(0, default_entries())
