"""docs/audit.md names every audit action the code records, so the list cannot drift from the code.

The actions are read from the source (not from a list kept beside it): every `action="..."` keyword and
`ACTION = "..."` constant, dotted string constants handed to a function whose name says audit
(`audit_inquiry(..., "risk.tracing.misuse", ...)`), the chain service's `audit_read(..., "flows.read")`
(recorded as `chain.flows.read`), and the families built at run time (`f"claim.ledger.{kind.value}"`), whose
values come from the enums and schemas that bound them."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import get_args

from jinyu.claim.schemas.books import LedgerEntryIn
from jinyu.financing.rules import Action

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "jinyu"
DOC = ROOT / "docs" / "audit.md"
DOTTED = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


def _func_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _actions_in(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _func_name(node)
            for kw in node.keywords:  # a literal, or literals in a conditional (`"x.on" if y else "x.off"`)
                if kw.arg == "action":
                    found.update(v for n in ast.walk(kw.value) if (v := _literal(n)) and DOTTED.match(v))
            if name == "audit_read" and len(node.args) >= 3 and (value := _literal(node.args[2])):
                found.add(f"chain.{value}")
            elif "audit" in name:
                found.update(v for a in node.args if (v := _literal(a)) and DOTTED.match(v))
        elif (
            isinstance(node, ast.Assign)
            and (value := _literal(node.value))
            and any(isinstance(t, ast.Name) and t.id == "ACTION" for t in node.targets)
        ):
            found.add(value)
    return found


def _families(tree: ast.AST) -> set[str]:
    """Prefixes of actions built at run time (`f"claim.ledger.{...}"` → `claim.ledger.`)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "action" and isinstance(node.value, ast.JoinedStr):
            head = node.value.values[0]
            if (prefix := _literal(head)) is not None:
                out.add(prefix)
    return out


def code_actions() -> tuple[set[str], set[str]]:
    actions: set[str] = set()
    families: set[str] = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        actions |= _actions_in(tree)
        families |= _families(tree)
    return actions, families


# What each family built at run time expands to; a new family must be added here (the test says so).
EXPANSIONS = {
    "claim.ledger.": {f"claim.ledger.{k}" for k in get_args(LedgerEntryIn.model_fields["kind"].annotation)},
    "financing.order.": {f"financing.order.{a.value}" for a in Action},
    "http.": {"http.get", "http.post", "http.put", "http.patch", "http.delete"},
    "chain.": set(),  # audit_read's values, read above from its callers
}


def test_the_scan_finds_known_actions() -> None:
    actions, families = code_actions()
    expected = {"auth.login", "risk.batch.read", "risk.statement.verify", "risk.tracing.misuse"}
    assert expected <= actions
    assert {"chain.flows.read", "financing.product.create", "auth.credential.rejected"} <= actions
    assert {"party.user.suspend", "party.user.reactivate"} <= actions
    assert families == set(EXPANSIONS), "a new family of actions built at run time: expand it in EXPANSIONS"


def test_docs_name_every_action() -> None:
    actions, _ = code_actions()
    for values in EXPANSIONS.values():
        actions |= values
    named = set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)+)`", DOC.read_text(encoding="utf-8")))
    missing = sorted(actions - named)
    assert not missing, f"docs/audit.md does not name these audit actions: {missing}"
