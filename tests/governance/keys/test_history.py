"""History across rotations: a bank's inquiry history reads in the current token version (its ledger column is
re-tokenized), and audit search by a token of any version finds the entries written under earlier versions
(the hash-chained entries are never rewritten: rotation notes aliases), while the chain still verifies."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.audit.models import AuditEntry
from jinyu.audit.schemas import AuditFilter, PageRequest
from jinyu.core.auth import SYSTEM, OrgKind, Principal, Role
from jinyu.core.privacy import token_version
from jinyu.governance.keys import service
from jinyu.models import metadata
from jinyu.risk import inquiries
from jinyu.risk.models import RiskInquiry
from jinyu.risk.statements.service import ACTION
from tests.fixtures.auth import make_org, principal

from .region import Region, build, results


@pytest.fixture
def region(session: Session, tmp_path: Path) -> Region:
    return build(session, tmp_path)


def _rotate(session: Session, region: Region) -> None:
    stores = service.Stores(region.lake_root, region.keys_dir, region.ring, metadata)
    service.rotate(session, SYSTEM, stores)
    service.activate(stores)


def _by_hand(key: bytes, token: str, version: int) -> str:
    """The chaining rule as docs/data-security.md states it, written out here."""
    return f"pt_v{version}_" + hmac.new(key, b"rotate\x1f" + token.encode(), hashlib.sha256).hexdigest()[:32]


def _statement_checks(session: Session, supervisor: Principal, subject_id: str) -> list[str]:
    page = audit.search(session, supervisor, AuditFilter(subject_id=subject_id, action=ACTION), PageRequest())
    return [e.id for e in page.items]


def test_history_and_audit_search_by_the_new_token_find_entries_from_before(
    session: Session, region: Region
) -> None:
    supervisor = principal(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_SUPERVISOR)
    results(session, region)  # one statement check under version 1
    [t1] = set(session.scalars(select(RiskInquiry.subject).where(RiskInquiry.kind == "statement")))
    assert token_version(t1) == 1
    _rotate(session, region)
    results(session, region)  # and one under version 2
    t2 = _by_hand(region.ring().key(2), t1, 2)
    history = inquiries.list_inquiries(session, region.bank, "statement")
    assert [h.subject for h in history] == [t2, t2]  # the version-1 row was carried forward
    checks = _statement_checks(session, supervisor, t2)
    assert len(checks) == 2  # the entry naming t1 too
    assert _statement_checks(session, supervisor, t1) == checks  # an old token (from an export) as well
    _rotate(session, region)
    t3 = _by_hand(region.ring().key(3), t2, 3)
    assert [h.subject for h in inquiries.list_inquiries(session, region.bank, "statement")] == [t3, t3]
    assert _statement_checks(session, supervisor, t3) == checks  # the alias moved on with the key
    assert _statement_checks(session, supervisor, t2) == checks
    named = [e.subject_ids for e in session.scalars(select(AuditEntry).where(AuditEntry.action == ACTION))]
    assert sorted(named) == sorted([f'["{t1}"]', f'["{t2}"]'])  # the entries themselves are untouched
    assert audit.verify(session, supervisor).ok
