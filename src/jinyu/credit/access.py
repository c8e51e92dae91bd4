"""Who may see which sections of whose card (docs/credit-card.md, "Who sees what").

The enterprise sees its whole card once its real-name registration is verified; regulators see every card
under their mandate; a bank sees the sections that grants in force cover for the stated purpose, a grant
belonging to the bank's whole tenant (head office, branches, outlets). Anyone else, and a bank with no
covering grant, is told the card does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from jinyu.consent import service as consent
from jinyu.consent.rules import Purpose, Scope
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.credit.errors import CardNotFound, RegistrationRequired
from jinyu.credit.rules import SECTIONS
from jinyu.party import service as party

# The consent scopes that open each section: the IP section also opens to grants made for `patents`
# before the card had an IP scope of its own.
SECTION_SCOPES: dict[str, tuple[Scope, ...]] = {
    "registration": (Scope.REGISTRATION,),
    "tax": (Scope.TAX,),
    "headcount": (Scope.HEADCOUNT,),
    "ip": (Scope.IP, Scope.PATENTS),
    "judicial": (Scope.JUDICIAL,),
    "penalties": (Scope.PENALTIES,),
}


@dataclass(frozen=True)
class Access:
    basis: str  # own | regulator | grant
    sections: tuple[str, ...]
    grants: dict[str, str] = field(default_factory=dict)  # section -> the grant that opens it

    @property
    def grant_ids(self) -> list[str]:
        return sorted(set(self.grants.values()))


def card_access(session: Session, principal: Principal, org_id: str, uscc: str, purpose: Purpose) -> Access:
    principal.require(Perm.CREDIT_CARD_READ)
    if principal.org_id == org_id:
        if not party.registration_verified(session, org_id):
            raise RegistrationRequired(
                detail="企业实名注册核验通过后方可查看本企业名片 / verify your real-name registration first"
            )
        return Access("own", SECTIONS)
    if principal.org_kind == OrgKind.REGULATOR:
        return Access("regulator", SECTIONS)
    covered = consent.covering_grants(session, principal, org_id, purpose)
    grants = {
        section: covered[scope]
        for section, scopes in SECTION_SCOPES.items()
        for scope in reversed(scopes)
        if scope in covered
    }
    if not grants:
        raise CardNotFound(detail=uscc)
    return Access("grant", tuple(s for s in SECTIONS if s in grants), grants)


def views_access(session: Session, principal: Principal, org_id: str, uscc: str) -> None:
    """The access history is the enterprise's own (once registered) and the regulators'."""
    principal.require(Perm.CREDIT_CARD_READ)
    if principal.org_id == org_id:
        if not party.registration_verified(session, org_id):
            raise RegistrationRequired(detail="须先完成实名注册 / verify your real-name registration first")
        return
    if principal.org_kind != OrgKind.REGULATOR:
        raise CardNotFound(detail=uscc)
