"""Contract versions: every dataset's recorded column sets, and the difference between two versions.

`contract_versions.json` (shipped) holds, per dataset, each version's columns and kinds. A dropped or retyped
column makes a new version that is *breaking*; an added column a new, non-breaking version. A test holds the
file to the live contracts: changing a contract without recording its new version fails with the diff.
`record()` appends the new versions (`jinyu governance contracts --record` writes the file).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jinyu.governance.contracts import CONTRACTS, Contract

FILE = "contract_versions.json"


@dataclass(frozen=True)
class ContractDiff:
    added: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    retyped: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def breaking(self) -> bool:
        return bool(self.dropped or self.retyped)

    @property
    def empty(self) -> bool:
        return not (self.added or self.dropped or self.retyped)


def columns_of(contract: Contract) -> dict[str, str]:
    return {c.name: c.kind.value for c in contract.columns}


def diff(old: dict[str, str], new: dict[str, str]) -> ContractDiff:
    return ContractDiff(
        added=[c for c in new if c not in old],
        dropped=[c for c in old if c not in new],
        retyped={c: (old[c], new[c]) for c in old if c in new and old[c] != new[c]},
    )


def history() -> dict[str, list[dict[str, Any]]]:
    text = resources.files("jinyu.governance").joinpath(FILE).read_text(encoding="utf-8")
    data: dict[str, list[dict[str, Any]]] = json.loads(text)
    return data


def record(known: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """`known` with a new version for every dataset whose live columns differ from its latest version."""
    out = {name: list(versions) for name, versions in known.items()}
    for name, contract in CONTRACTS.items():
        versions = out.setdefault(name, [])
        live = columns_of(contract)
        if not versions or versions[-1]["columns"] != live:
            change = diff(versions[-1]["columns"], live) if versions else ContractDiff(added=list(live))
            versions.append(
                {
                    "version": len(versions) + 1,
                    "columns": live,
                    "breaking": change.breaking,
                    "added": change.added,
                    "dropped": change.dropped,
                    "retyped": change.retyped,
                }
            )
    return out


def write(path: Path, data: dict[str, list[dict[str, Any]]]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
