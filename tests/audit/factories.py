"""Small builders for audit tests: principals and pure in-memory chains."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jinyu.audit import rules
from jinyu.core.auth import OrgKind, Perm, Principal, Role


def principal(
    name: str = "analyst",
    *,
    role: Role = Role.REGULATOR_SUPERVISOR,
    org_kind: OrgKind = OrgKind.REGULATOR,
    org_id: str = "org-reg",
    tenant_id: str = "tenant-reg",
    perms: frozenset[Perm] = frozenset(),
) -> Principal:
    return Principal(
        subject_id=f"user-{name}",
        username=name,
        org_id=org_id,
        org_kind=org_kind,
        tenant_id=tenant_id,
        org_path=f"/{tenant_id}/{org_id}",
        roles=frozenset({role}),
        perms=perms,
    )


def chain_entry(seq: int, prev_hash: str, **overrides: Any) -> dict[str, Any]:
    """A well-formed, correctly hashed entry (as a forger who knows the algorithm would make one)."""
    fields: dict[str, Any] = {
        "seq": seq,
        "id": f"{seq:032x}",
        "at": dt.datetime(2025, 3, 1, 8, 0, 0, seq, tzinfo=dt.UTC),
        "actor_id": "user-a",
        "actor_name": "a",
        "org_id": "org-1",
        "tenant_id": "tenant-1",
        "action": "party.org.read",
        "subject_type": "organisation",
        "subject_ids": rules.json_text([f"org-{seq}"]),
        "purpose": None,
        "outcome": "ok",
        "detail": None,
        "request_id": f"req-{seq}",
        "prev_hash": prev_hash,
    }
    fields.update(overrides)
    return {**fields, "hash": rules.entry_hash(prev_hash, fields)}


def make_chain(n: int) -> tuple[list[dict[str, Any]], rules.ChainHead]:
    entries: list[dict[str, Any]] = []
    prev = rules.GENESIS_HASH
    for seq in range(1, n + 1):
        entry = chain_entry(seq, prev)
        entries.append(entry)
        prev = entry["hash"]
    return entries, rules.ChainHead(n, prev)


def rehash(entry: dict[str, Any]) -> dict[str, Any]:
    """What a forger does after editing an entry: recompute its own hash (not its successors' links)."""
    return {**entry, "hash": rules.entry_hash(entry["prev_hash"], entry)}
