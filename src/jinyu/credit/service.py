"""Credit card use cases: show a card (snapshotting it), read a cited snapshot, list snapshots and views,
and snapshot every enterprise in one batch. Services never commit; the boundary does."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jinyu.analytics import Engine
from jinyu.audit import service as audit
from jinyu.consent.rules import Purpose
from jinyu.core.auth import Principal
from jinyu.core.clock import utcnow
from jinyu.core.db import new_id
from jinyu.core.ids import validate_uscc
from jinyu.core.pagination import Page
from jinyu.credit import digest, queries
from jinyu.credit import repository as repo
from jinyu.credit.access import Access, card_access, views_access
from jinyu.credit.errors import CardNotFound, SnapshotIntegrityFailed, SnapshotNotFound
from jinyu.credit.models import CardSnapshot, CardView
from jinyu.credit.rules import CARD_FORMAT, SECTION_TITLES, SECTIONS, build_card
from jinyu.credit.schemas import (
    CardOut,
    CardViewOut,
    Section,
    SnapshotRef,
    SnapshotSummary,
)
from jinyu.governance.policy import service as policy
from jinyu.governance.policy.protect import Reader, protect
from jinyu.governance.policy.protect import version as policy_version
from jinyu.party import service as party

RENDERINGS = ("json", "html", "pdf")


def _enterprise(session: Session, uscc: str) -> tuple[str, str, str]:
    code = validate_uscc(uscc)
    org = party.find_enterprise(session, code)
    if org is None:
        raise CardNotFound(detail=code)
    return code, org.id, org.name


def card(
    session: Session,
    principal: Principal,
    engine: Engine,
    uscc: str,
    purpose: Purpose,
    rendering: str = "json",
) -> CardOut:
    """The current card as the caller may see it; the content is snapshotted (a new version only when it
    changed), the view is recorded for the enterprise and audited."""
    code, org_id, name = _enterprise(session, uscc)
    access = card_access(session, principal, org_id, code, purpose)
    snap = current_snapshot(session, principal, engine, code, org_id, name)
    return _shown(session, principal, org_id, access, purpose, snap, name, rendering)


def snapshot(
    session: Session, principal: Principal, engine: Engine, uscc: str, purpose: Purpose, version: int
) -> CardOut:
    """A version a bank decided on, as the caller may see it today (grants are checked now, not then)."""
    code, org_id, name = _enterprise(session, uscc)
    access = card_access(session, principal, org_id, code, purpose)
    snap = repo.by_version(session, code, version)
    if snap is None:
        raise SnapshotNotFound(detail=f"{code} v{version}")
    _verify(snap)
    return _shown(session, principal, org_id, access, purpose, snap, name, "json")


def list_snapshots(
    session: Session, principal: Principal, uscc: str, purpose: Purpose, limit: int, offset: int
) -> Page[SnapshotSummary]:
    code, org_id, _name = _enterprise(session, uscc)
    card_access(session, principal, org_id, code, purpose)
    rows, total = repo.list_snapshots(session, code, limit, offset)
    audit.record(
        session,
        principal,
        action="credit.snapshot.list",
        subject_type="enterprise",
        subject_ids=[org_id],
        purpose=purpose.value,
    )
    items = [
        SnapshotSummary(
            version=r.version, content_hash=r.content_hash, card_format=r.card_format, created_at=r.created_at
        )
        for r in rows
    ]
    return Page[SnapshotSummary](items=items, total=total, limit=limit, offset=offset)


def list_views(
    session: Session, principal: Principal, uscc: str, limit: int, offset: int
) -> Page[CardViewOut]:
    """谁查看了我的名片 / who looked at the card, newest first."""
    code, org_id, _name = _enterprise(session, uscc)
    views_access(session, principal, org_id, code)
    rows, total = repo.list_views(session, org_id, limit, offset)
    names: dict[str, str] = {}
    for row in rows:
        if row.viewer_org_id not in names:
            org = party.resolve_org(session, row.viewer_org_id)
            names[row.viewer_org_id] = org.name if org else row.viewer_org_id
    audit.record(
        session, principal, action="credit.view.list", subject_type="enterprise", subject_ids=[org_id]
    )
    items = [
        CardViewOut(
            viewed_at=r.viewed_at,
            viewer_org_id=r.viewer_org_id,
            viewer_org_name=names[r.viewer_org_id],
            viewer_kind=r.viewer_kind,
            viewer=r.viewer_subject,
            basis=r.basis,
            purpose=r.purpose,
            sections=list(r.sections),
            grant_ids=list(r.grant_ids),
            snapshot_version=r.snapshot_version,
            rendering=r.rendering,
        )
        for r in rows
    ]
    return Page[CardViewOut](items=items, total=total, limit=limit, offset=offset)


def current_snapshot(
    session: Session, principal: Principal, engine: Engine, uscc: str, org_id: str, name: str
) -> CardSnapshot:
    """The latest snapshot if the card has not changed since, else a new version (concurrent views of a
    changed card agree on one new version: the loser of the insert race reads the winner's)."""
    built = build_card(uscc, name, queries.card_facts(engine, uscc))
    encoded = digest.section_bytes(built["sections"])
    key = digest.content_key(encoded)
    for _attempt in range(3):
        last = repo.latest(session, uscc)
        if last is not None and last.content_key == key and last.card_format == CARD_FORMAT:
            return last
        version = (last.version if last else 0) + 1
        row = snapshot_row(uscc, org_id, version, built["sections"], encoded, key, principal)
        try:
            with session.begin_nested():
                repo.insert_snapshots(session, [row])
        except IntegrityError:
            continue  # another request wrote this version first: look again
        found = repo.by_version(session, uscc, row["version"])
        assert found is not None
        return found
    raise SnapshotIntegrityFailed(detail=f"{uscc}: 并发写入冲突 / concurrent snapshot writes, retry")


def snapshot_row(
    uscc: str,
    org_id: str,
    version: int,
    sections: dict[str, Any],
    encoded: dict[str, bytes],
    key: str,
    principal: Principal,
) -> dict[str, Any]:
    salts = digest.new_salts(SECTIONS)
    hashes = {s: digest.section_hash(salts[s], encoded[s]) for s in SECTIONS}
    return {
        "id": new_id(),
        "enterprise_org_id": org_id,
        "uscc": uscc,
        "version": version,
        "card_format": CARD_FORMAT,
        "content_hash": digest.snapshot_hash(CARD_FORMAT, uscc, version, hashes),
        "content_key": key,
        "sections": sections,
        "salts": salts,
        "section_hashes": hashes,
        "created_at": utcnow(),
        "created_by": principal.subject_id,
    }


def _verify(snap: CardSnapshot) -> None:
    encoded = digest.section_bytes(snap.sections)
    hashes = {s: digest.section_hash(snap.salts[s], encoded[s]) for s in snap.section_hashes}
    whole = digest.snapshot_hash(snap.card_format, snap.uscc, snap.version, hashes)
    if hashes != snap.section_hashes or whole != snap.content_hash:
        raise SnapshotIntegrityFailed(detail=f"{snap.uscc} v{snap.version}")


def _shown(
    session: Session,
    principal: Principal,
    org_id: str,
    access: Access,
    purpose: Purpose,
    snap: CardSnapshot,
    name: str,
    rendering: str,
) -> CardOut:
    """The card as the data-security policy lets this caller read it, its view recorded and audited.

    Consent opened the sections; the policy decides their data: the tax section is level 5, so a bank reads it
    only under a tax grant carrying a supervisor's level approval in force (docs/data-security.md)."""
    tax_grant = access.grants.get("tax")
    level, approval_id = policy.approved_level(session, [tax_grant] if tax_grant else [])
    reader = Reader(principal, approved_level=level, purpose=purpose.value)
    out = _out(snap, access, purpose, name)
    sections = {}
    for key, section in out.sections.items():
        seen = protect(section, reader)
        if seen.data is None and section.data is not None:
            seen = seen.model_copy(update={"status": "withheld", "salt": None})
        sections[key] = seen
    withheld = [key for key, s in sections.items() if s.status == "withheld"]
    shown = protect(out.model_copy(update={"sections": sections, "withheld": withheld}), reader)
    protection = {
        "approval_id": approval_id,
        "policy_version": policy_version(),
        "withheld": sorted(reader.withheld),
        "withheld_sections": withheld,
    }
    _record_view(session, principal, org_id, access, purpose, snap, rendering, protection)
    return shown


def _record_view(
    session: Session,
    principal: Principal,
    org_id: str,
    access: Access,
    purpose: Purpose,
    snap: CardSnapshot,
    rendering: str,
    protection: dict[str, Any],
) -> None:
    shown_purpose = purpose.value if access.basis == "grant" else None
    repo.add_view(
        session,
        CardView(
            id=new_id(),
            enterprise_org_id=org_id,
            viewer_org_id=principal.org_id,
            viewer_tenant_id=principal.tenant_id,
            viewer_subject=principal.username,
            viewer_kind=principal.org_kind.value,
            basis=access.basis,
            purpose=shown_purpose,
            sections=list(access.sections),
            grant_ids=access.grant_ids,
            snapshot_version=snap.version,
            rendering=rendering,
            viewed_at=utcnow(),
        ),
    )
    audit.record(
        session,
        principal,
        action="credit.card.view",
        subject_type="enterprise",
        subject_ids=[org_id],
        purpose=shown_purpose,
        detail={
            "basis": access.basis,
            "sections": list(access.sections),
            "grants": access.grant_ids,
            "version": snap.version,
            "rendering": rendering,
            **protection,
        },
    )


def _out(snap: CardSnapshot, access: Access, purpose: Purpose, name: str) -> CardOut:
    sections = {
        name: Section(
            section=name,
            title=SECTION_TITLES[name],
            salt=snap.salts[name],
            section_hash=snap.section_hashes[name],
            **snap.sections[name],
        )
        for name in access.sections
    }
    return CardOut(
        uscc=snap.uscc,
        name=name,
        basis=access.basis,
        purpose=purpose.value if access.basis == "grant" else None,
        snapshot=SnapshotRef(
            version=snap.version,
            content_hash=snap.content_hash,
            card_format=snap.card_format,
            created_at=snap.created_at,
            section_hashes=dict(snap.section_hashes),
        ),
        sections=sections,
        not_shown=[s for s in SECTIONS if s not in access.sections],
    )
