"""Picking a bank on a form: every bank organisation grouped by bank (the head office first, then its branches,
each followed by its outlets), the banks where the enterprise has accounts first, and a filter by name or code
that works without JavaScript (a GET parameter narrows the list)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from jinyu.analytics.serving import shared_engine
from jinyu.banking import service as banking
from jinyu.config import Settings
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.party import service as party
from jinyu.party.schemas import OrgOut

INDENT = "\u3000"  # a full-width space: browsers keep it at the start of an option's text
HEAD, BRANCH, OUTLET = OrgKind.BANK_HEAD_OFFICE.value, OrgKind.BANK_BRANCH.value, OrgKind.BANK_OUTLET.value


@dataclass(frozen=True)
class BankOption:
    id: str
    code: str
    name: str
    level: int  # 0 head office, 1 branch, 2 outlet
    own: bool  # the enterprise has an account here

    @property
    def label(self) -> str:
        return INDENT * self.level + self.name


@dataclass(frozen=True)
class BankGroup:
    name: str  # the bank (its head office's name)
    own: bool  # the enterprise has an account somewhere in this bank
    options: tuple[BankOption, ...]


def group_banks(banks: Iterable[OrgOut], own_codes: frozenset[str], query: str = "") -> list[BankGroup]:
    """`banks` grouped by head office: the groups where `own_codes` (the codes of the organisations holding the
    enterprise's accounts) fall first, then by name. With `query` only the organisations whose name or code
    contains it (case-insensitive) are kept, each with its head office; a matching head office keeps its whole
    bank."""
    by_id = {b.id: b for b in banks}
    children: dict[str | None, list[OrgOut]] = {}
    for b in by_id.values():
        parent = b.parent_id if b.parent_id in by_id else None
        children.setdefault(parent, []).append(b)
    needle = query.strip().casefold()

    def matches(org: OrgOut) -> bool:
        return not needle or needle in org.name.casefold() or needle in org.code.casefold()

    groups: list[BankGroup] = []
    for head in sorted(children.get(None, []), key=lambda o: o.name):
        tree = [(head, 0), *_below(head.id, children, 1)]
        whole = matches(head)
        kept = [(o, level) for o, level in tree if level == 0 or whole or matches(o)]
        if len(kept) == 1 and not whole:
            continue
        options = tuple(BankOption(o.id, o.code, o.name, level, o.code in own_codes) for o, level in kept)
        groups.append(BankGroup(head.name, any(o.code in own_codes for o, _ in tree), options))
    groups.sort(key=lambda g: not g.own)  # stable: own banks first, each part by name
    return groups


def _below(parent_id: str, children: dict[str | None, list[OrgOut]], level: int) -> list[tuple[OrgOut, int]]:
    out: list[tuple[OrgOut, int]] = []
    for child in sorted(children.get(parent_id, []), key=lambda o: o.name):
        out.append((child, level))
        out.extend(_below(child.id, children, level + 1))
    return out


def head_offices(groups: Sequence[BankGroup]) -> list[BankOption]:
    """Each group's head office, in the groups' order (for forms that name a bank, not a branch)."""
    return [g.options[0] for g in groups if g.options and g.options[0].level == 0]


def own_bank_codes(session: Session, principal: Principal, settings: Settings) -> frozenset[str]:
    """The codes of the bank organisations where the caller (an enterprise) holds accounts, through the banking
    service (scoped and audited as `GET /banking/accounts` is); empty for anyone else or without account data."""
    if principal.org_kind != OrgKind.ENTERPRISE or not principal.has(Perm.ACCOUNT_READ):
        return frozenset()
    if not (settings.lake_dir / "accounts").exists():
        return frozenset()
    engine = shared_engine(settings.lake_dir)
    page = banking.list_accounts(session, principal, engine, settings.pseudonym_keys(), None, 500, 0)
    return frozenset(a.bank_code for a in page.items)


def bank_groups(
    session: Session, principal: Principal, settings: Settings, query: str = ""
) -> list[BankGroup]:
    """The grouped directory for a form of this caller (`party.bank_directory`: an enterprise's permission)."""
    banks = party.bank_directory(session, principal)
    return group_banks(banks, own_bank_codes(session, principal, settings), query)
