"""The policy as tables (role x class -> action): `jinyu policy show` prints them and docs/data-security.md
carries them; a test keeps the docs equal to this rendering."""

from __future__ import annotations

from jinyu.core.auth import Role
from jinyu.governance.policy.rules import Action, Policy

SHORT = {Action.CLEAR: "clear", Action.MASK: "mask", Action.TOKEN: "token", Action.WITHHOLD: "—"}


def cell(policy: Policy, data_class: str, role: str) -> str:
    """One role's action on one class: `token` etc.; `— / clear with L5 approval` where an approval of that
    level opens it, followed by the purposes it opens for when a rule is bound to purposes."""
    plain = policy.decide(data_class, [role])[0]
    shown = SHORT[plain]
    level = policy.classes[data_class].level
    for purpose in policy.purposes:
        bound = policy.decide(data_class, [role], 0, purpose)[0]
        if bound > plain:
            shown += f" / {SHORT[bound]} for {purpose}"
    opened_for = [p for p in (None, *policy.purposes) if policy.needs_approval(data_class, [role], p)]
    if opened_for:
        opened = max(policy.decide(data_class, [role], 5, p)[0] for p in opened_for)
        shown += f" / {SHORT[opened]} with L{level} approval"
        if None not in opened_for:
            shown += f" for {', '.join(str(p) for p in opened_for)}"
    return shown


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
