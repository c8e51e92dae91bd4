"""The borrower's related-party set, and how evidence shows an account depending on its place in it.

The set comes from the `tracing_context_*` query: the borrower's own accounts; its legal representative's
accounts (the same pseudonymized person token); its shareholders' (persons and companies); companies it
holds shares in; companies with the same legal representative, or in which the legal representative holds
shares; sister companies under the same corporate shareholder; companies at the same registered address or
with the same phone; the loan's guarantors (`loan_guarantees`: companies by USCC, persons by the same token);
parties declared in `related_parties` (by the registry, or by the caller's own bank tree, valid on the
disbursement day); and parties linked by chains of control (holdings of at least 50%).

Every relation carries its source (`relation_source`): `derived:<dataset>` for what the hub derives from
registry, shareholder or guarantee data, `declared:<relation kind>:<source>` for a declaration.

Display rules (the bank learns what it is entitled to, not the ledger):
- the borrower's own accounts: the account number;
- related parties' accounts: the masked number, the relation and the owner's (already masked) name;
- every other account: a keyed pseudonymous token and its category only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from jinyu.core.privacy import ACCOUNT_DOMAIN, Keys, mask, pseudonymize
from jinyu.risk.tracing.rules import CATEGORY_LABELS, RELATIONS
from jinyu.risk.tracing.schemas import RelatedParty

Party = Literal["borrower", "related", "outside"]


def relation_name(rank: int) -> str:
    return RELATIONS[rank - 1][0]


def relation_label(rank: int) -> str:
    _name, zh, en = RELATIONS[rank - 1]
    return f"{zh} / {en}"


def category_label(category: str | None) -> str | None:
    if category is None:
        return None
    zh, en = CATEGORY_LABELS.get(category, (category, category))
    return f"{zh} / {en}"


@dataclass
class RelatedSet:
    """Related accounts of one loan's borrower: account -> strongest rank, and every relation per account."""

    rank: dict[str, int] = field(default_factory=dict)
    relations: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    owner_name: dict[str, str | None] = field(default_factory=dict)
    category: dict[str, str | None] = field(default_factory=dict)
    source: dict[tuple[str, int], str] = field(default_factory=dict)  # (account, rank) -> relation source

    @classmethod
    def of(cls, rows: Iterable[Mapping[str, Any]]) -> RelatedSet:
        out = cls()
        for r in rows:
            if r["row_type"] != "related":
                continue
            account, rank = str(r["account_no"]), int(r["rel_rank"])
            out.rank[account] = min(rank, out.rank.get(account, rank))
            out.relations[account].add(rank)
            out.source.setdefault((account, rank), str(r.get("rel_source") or "derived"))
            out.owner_name[account] = r.get("owner_name")
            out.category[account] = r.get("category")
        return out

    def party(self, account: str) -> Party:
        rank = self.rank.get(account)
        if rank is None:
            return "outside"
        return "borrower" if rank == 1 else "related"

    def summary(self) -> list[RelatedParty]:
        counts: dict[int, int] = defaultdict(int)
        for ranks in self.relations.values():
            for rank in ranks:
                counts[rank] += 1
        return [
            RelatedParty(relation=relation_name(rank), label=relation_label(rank), accounts=counts[rank])
            for rank in sorted(counts)
        ]


@dataclass(frozen=True)
class AccountView:
    account: str
    party: Party
    relation: str | None
    relation_label: str | None
    owner_name: str | None
    relation_source: str | None = None


def view(account: str, related: RelatedSet, pseudonym_key: Keys) -> AccountView:
    """How one account appears in evidence (see the module docstring)."""
    party = related.party(account)
    if party == "outside":
        return AccountView(pseudonymize(pseudonym_key, account, ACCOUNT_DOMAIN), party, None, None, None)
    rank = related.rank[account]
    shown = account if party == "borrower" else (mask(account, 4, 4) or account)
    return AccountView(
        shown,
        party,
        relation_name(rank),
        relation_label(rank),
        related.owner_name.get(account),
        related.source.get((account, rank)),
    )
