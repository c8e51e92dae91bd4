"""Which providers' figures and remediation items a caller may see.

The regulator and the hub's data team (`governance.read_all`) see every provider. Anyone else sees the
providers that are their own organisation: its code, and for banks and hospitals the codes of every
organisation in its subtree (a head office sees its branches' rows; a branch only its own).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from jinyu.core.auth import Perm, Principal
from jinyu.party.service import orgs


def provider_codes(session: Session, principal: Principal) -> set[str] | None:
    """The provider codes visible to `principal`; None means all of them."""
    if principal.has(Perm.GOVERNANCE_READ_ALL):
        return None
    own = orgs.resolve_org(session, principal.org_id)
    if own is None:
        return set()
    return {own.code, *orgs.org_codes_under(session, own.kind, principal.org_path)}
