"""Older-version pseudonyms in the audit trail, and search by a current token that finds them.

A key rotation re-tokenizes every store column but not the audit entries: they are hash-chained (their JSON
text is what the hash covers), so rewriting them would break `verify`. The rotation calls `remember` before it
rewrites the store: each token of an older version named in an entry's `subject_ids` gets an alias row with
its value at the new version; rows from earlier rotations are carried forward by the same store rewrite (their
`token` column is a pseudonym column). `expand` answers, for a token of any version, every token the trail may
hold for the same subject, so "who looked at X" by today's token also lists entries written before a rotation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from jinyu.audit.models import AuditEntry, AuditTokenAlias
from jinyu.core.privacy import advance, token_version
from jinyu.core.pseudokeys import Keyring

# Tokens are lower-case ASCII; entries holding none are skipped by the database, not parsed here.
_TOKEN_NEEDLE = '"pt_'


def remember(session: Session, ring: Keyring, target: int) -> int:
    """Note every older-version token named by an entry with its value at `target`; new aliases noted.

    One pass over the entries naming a token (a rotation is rare; the trail is read once per rotation)."""
    known = set(session.scalars(select(AuditTokenAlias.old_token)))
    found: set[str] = set()
    stmt = select(AuditEntry.subject_ids).where(AuditEntry.subject_ids.contains(_TOKEN_NEEDLE))
    for text in session.scalars(stmt.execution_options(yield_per=2000)):
        found.update(t for t in _tokens(text) if t not in known)
    older = sorted(t for t in found if (token_version(t) or target) < target)  # `_tokens` kept tokens only
    session.add_all(AuditTokenAlias(old_token=t, token=advance(ring, t, target)) for t in older)
    session.flush()
    return len(older)


def _tokens(text: str) -> Iterable[str]:
    try:
        ids = json.loads(text)
    except ValueError:
        return []  # a row edited by hand: verify names it; search still matches its text
    if not isinstance(ids, list):
        return []
    return [v for v in ids if isinstance(v, str) and token_version(v) is not None]


def expand(session: Session, subject_id: str) -> list[str]:
    """`subject_id` and, if it is a pseudonym, every token of the same subject the trail may hold.

    A token of any version: an old one is first taken to its current alias (if the trail named it), then the
    current one to every older one noted for it."""
    if token_version(subject_id) is None:
        return [subject_id]
    current = session.scalar(select(AuditTokenAlias.token).where(AuditTokenAlias.old_token == subject_id))
    heads = {subject_id} | ({current} if current else set())
    olders = session.scalars(
        select(AuditTokenAlias.old_token).where(or_(*(AuditTokenAlias.token == h for h in sorted(heads))))
    )
    return sorted(heads | set(olders))
