"""The policy as tables (role x class -> action): `jinyu policy show` prints them and docs/data-security.md
carries them; a test keeps the docs equal to this rendering."""

from __future__ import annotations

from jinyu.core.auth import Role
from jinyu.governance.policy.rules import Action, Policy

SHORT = {Action.CLEAR: "clear", Action.MASK: "mask", Action.TOKEN: "token", Action.WITHHOLD: "—"}


def cell(policy: Policy, data_class: str, role: str) -> str:
    """One role's action on one class; `token` etc., with `clear⁵` where an approval of level N opens it."""
    plain = policy.decide(data_class, [role])[0]
    if policy.needs_approval(data_class, [role]):
        opened = policy.decide(data_class, [role], 5)[0]
        return f"{SHORT[plain]} / {SHORT[opened]} with L{policy.classes[data_class].level} approval"
    return SHORT[plain]


def role_class_rows(policy: Policy) -> list[list[str]]:
    """Header and rows: one row per class (name, level, PFI class, mask), one column per role."""
    roles = [r.value for r in Role]
    header = ["class", "level", "PFI", "mask", *roles]
    rows = [header]
    for name, spec in policy.classes.items():
        rows.append(
            [name, str(spec.level), spec.pfi or "", spec.mask, *(cell(policy, name, role) for role in roles)]
        )
    return rows


def markdown(policy: Policy) -> str:
    rows = role_class_rows(policy)
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * len(rows[0])]
    lines += ["| " + " | ".join(f"`{c}`" if i == 0 else c for i, c in enumerate(r)) + " |" for r in rows[1:]]
    return "\n".join(lines)
