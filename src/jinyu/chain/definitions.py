"""Chain definitions as data: chains, their ordered segments with GB/T 4754 classes, the financial chain chief
(金融链长) bank, and the business parameters of the analyses. Shipped in `data/chains.json` (versioned)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib.resources import files
from typing import Any

from jinyu.chain.errors import ChainNotFound


@dataclass(frozen=True)
class SegmentDef:
    code: str
    name: str
    name_en: str
    industries: tuple[str, ...]


@dataclass(frozen=True)
class ChainDef:
    code: str
    name: str
    name_en: str
    chief_bank_name: str | None
    segments: tuple[SegmentDef, ...]

    @property
    def segment_codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.segments)


@dataclass(frozen=True)
class Parameters:
    decay_per_month: Decimal
    network_window_months: int
    betweenness_max_nodes: int
    receivable_months: int
    thin_segment_members: int
    leak_share: Decimal
    weak_segment_share: Decimal
    headcount_drop: Decimal
    tax_drop: Decimal
    min_paying_months: int
    medium_long_term_months: int


@dataclass(frozen=True)
class Definitions:
    version: str
    parameters: Parameters
    chains: tuple[ChainDef, ...]

    def chain(self, code: str) -> ChainDef:
        for chain in self.chains:
            if chain.code == code:
                return chain
        raise ChainNotFound(detail=code)


def parse(text: str) -> Definitions:
    raw = json.loads(text, parse_float=Decimal)
    p = raw["parameters"]
    values: dict[str, Any] = {k: v if isinstance(v, Decimal) else int(v) for k, v in p.items()}
    params = Parameters(**values)
    chains = tuple(
        ChainDef(
            code=c["code"],
            name=c["name"],
            name_en=c["name_en"],
            chief_bank_name=c.get("chief_bank_name"),
            segments=tuple(
                SegmentDef(s["code"], s["name"], s["name_en"], tuple(s["industries"])) for s in c["segments"]
            ),
        )
        for c in raw["chains"]
    )
    return Definitions(version=str(raw["version"]), parameters=params, chains=chains)


@lru_cache(maxsize=1)
def load() -> Definitions:
    return parse((files("jinyu.chain") / "data" / "chains.json").read_text(encoding="utf-8"))
