"""Audit service on a real database (SQLite and PostgreSQL): appending, verifying, tampering, searching."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import service
from jinyu.audit.errors import AuditChainHeadMissing, AuditEntryRejected
from jinyu.audit.models import AuditEntry, AuditHead
from jinyu.audit.rules import GENESIS_HASH, Outcome, Problem, VerifyResult
from jinyu.audit.schemas import AuditFilter, PageRequest
from jinyu.core.auth import OrgKind, Perm, Role
from jinyu.core.errors import PermissionDenied
from jinyu.core.logging import request_id
from tests.audit.factories import chain_entry, principal

SUPERVISOR = principal("supervisor")
ANALYST = principal("analyst", role=Role.REGULATOR_ANALYST)
BANKER = principal(
    "banker",
    role=Role.BANK_HQ_RISK,
    org_kind=OrgKind.BANK_HEAD_OFFICE,
    org_id="org-bank",
    tenant_id="tenant-bank",
)


def _append(session: Session, n: int, **kwargs: Any) -> list[AuditEntry]:
    args: dict[str, Any] = {"action": "party.org.read", "subject_type": "organisation", **kwargs}
    return [service.record(session, BANKER, subject_ids=[f"org-{i}"], **args) for i in range(n)]


def _seqs(session: Session) -> list[int]:
    return list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))


def _verify(session: Session, **kwargs: Any) -> VerifyResult:
    return service.verify(session, SUPERVISOR, **kwargs)


def _last(session: Session) -> AuditEntry:
    return session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()


# ---------------------------------------------------------------------------------------------- recording


def test_first_record_creates_the_head_and_chains_from_genesis(session: Session) -> None:
    token = request_id.set("req-42")
    try:
        entry = service.record(
            session,
            BANKER,
            action="party.org.read",
            subject_type="organisation",
            subject_ids=["org-1", "org-2"],
            purpose="贷前调查",
            detail={"fields": ["name", "uscc"]},
        )
    finally:
        request_id.reset(token)

    assert (entry.seq, entry.prev_hash) == (1, GENESIS_HASH)
    assert (entry.actor_id, entry.actor_name, entry.org_id, entry.tenant_id) == (
        "user-banker",
        "banker",
        "org-bank",
        "tenant-bank",
    )
    assert (entry.request_id, entry.outcome, entry.subject_ids) == ("req-42", "ok", '["org-1","org-2"]')
    assert entry.at.tzinfo is not None and len(entry.id) == 32
    head = session.scalars(select(AuditHead)).one()
    assert (head.id, head.seq, head.hash) == (1, 1, entry.hash)


def test_records_form_a_gapless_linked_chain(session: Session) -> None:
    entries = _append(session, 5)

    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert _verify(session).ok


def test_record_never_commits(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as first:
        _append(first, 2)
        first.rollback()
    with session_factory() as second:
        assert _seqs(second) == []
        assert service.record(second, BANKER, action="auth.login", subject_type="user").seq == 1


def test_record_outcome_commits_even_when_the_request_rolls_back(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as request_session:
        _append(request_session, 1)
        request_session.rollback()  # the request failed

    entry = service.record_outcome(
        session_factory, BANKER, action="consent.grant.read", subject_type="grant", outcome=Outcome.DENIED
    )

    assert (entry.seq, entry.outcome) == (1, "denied")  # values readable after its session closed
    with session_factory() as check:
        assert _seqs(check) == [1]
        assert _verify(check).ok


def test_refused_content_writes_nothing(session: Session) -> None:
    _append(session, 1)
    with pytest.raises(AuditEntryRejected):
        service.record(session, BANKER, action="banking.account.read", subject_type="account",
                       detail={"card_no": "6222021234567890"})  # fmt: skip
    assert _seqs(session) == [1]
    assert session.scalars(select(AuditHead.seq)).one() == 1


def test_records_in_one_session_across_transactions_use_the_fresh_head(
    session_factory: sessionmaker[Session],
) -> None:
    # expire_on_commit=False sessions keep loaded objects; the head must be re-read each time, not cached.
    with session_factory() as s:
        _append(s, 1)
        s.commit()
        _append(s, 1)
        s.commit()
        assert _seqs(s) == [1, 2]
        assert _verify(s).ok


def test_outcome_check_constraint_mirrors_the_rule_enum() -> None:
    table = AuditEntry.metadata.tables["audit_entries"]
    constraint = next(c for c in table.constraints if str(c.name).endswith("_outcome"))
    sql = str(getattr(constraint, "sqltext", ""))
    assert all(f"'{o.value}'" in sql for o in Outcome)


# ---------------------------------------------------------------------------------------------- verifying


def test_verify_walks_in_batches_and_is_itself_audited(session: Session) -> None:
    _append(session, 7)

    result = _verify(session, batch_size=2)

    assert (result.ok, result.checked, result.head and result.head.seq) == (True, 7, 7)
    entry = _last(session)
    assert (entry.seq, entry.action, entry.outcome, entry.actor_id) == (
        8,
        "audit.verify",
        "ok",
        "user-supervisor",
    )
    assert '"checked":7' in (entry.detail or "")
    assert _verify(session).checked == 8


def test_verify_needs_the_verify_permission(session: Session) -> None:
    banker = principal("banker", role=Role.BANK_HQ_RISK, org_kind=OrgKind.BANK_HEAD_OFFICE)
    with pytest.raises(PermissionDenied):
        service.verify(session, banker)


def test_verify_of_an_empty_trail_is_ok(session: Session) -> None:
    result = _verify(session)
    assert (result.ok, result.checked) == (True, 0)
    assert _seqs(session) == [1]  # the verification itself


TAMPERING: list[tuple[str, list[str], Problem, int]] = [
    ("update a field", ["UPDATE audit_entries SET actor_name = 'mallory' WHERE seq = 3"], Problem.CHANGED, 3),
    ("update the outcome", ["UPDATE audit_entries SET outcome = 'ok' WHERE seq = 2"], Problem.CHANGED, 2),
    ("delete a middle entry", ["DELETE FROM audit_entries WHERE seq = 3"], Problem.REMOVED, 3),
    ("delete the first entry", ["DELETE FROM audit_entries WHERE seq = 1"], Problem.REMOVED, 1),
    ("delete the last entry", ["DELETE FROM audit_entries WHERE seq = 5"], Problem.REMOVED, 5),
    (
        "swap two entries",
        [
            "UPDATE audit_entries SET seq = 1000 WHERE seq = 2",
            "UPDATE audit_entries SET seq = 2 WHERE seq = 3",
            "UPDATE audit_entries SET seq = 3 WHERE seq = 1000",
        ],
        Problem.REORDERED,
        2,
    ),
]


@pytest.mark.parametrize(
    ("statements", "problem", "seq"), [t[1:] for t in TAMPERING], ids=[t[0] for t in TAMPERING]
)
def test_verify_names_the_row_tampered_through_raw_sql(
    session: Session, statements: list[str], problem: Problem, seq: int
) -> None:
    _append(session, 2, outcome=Outcome.DENIED)
    _append(session, 3)
    for statement in statements:
        session.execute(text(statement))

    result = _verify(session, batch_size=2)

    assert (result.ok, result.problem, result.first_bad_seq) == (False, problem, seq)
    assert f"seq {seq}" in result.message
    recorded = _last(session)
    assert (recorded.action, recorded.outcome) == ("audit.verify", "failed")


def test_verify_finds_a_forged_entry_stored_past_the_head(session: Session) -> None:
    entries = _append(session, 3)
    session.execute(insert(AuditEntry).values(**chain_entry(4, entries[-1].hash)))

    result = _verify(session)

    assert (result.problem, result.first_bad_seq, result.checked) == (Problem.INSERTED, 4, 3)


def test_a_rewritten_and_rehashed_tail_is_caught_by_the_head(session: Session) -> None:
    entries = _append(session, 3)
    forged = chain_entry(3, entries[1].hash, id=entries[2].id)
    session.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
    session.execute(insert(AuditEntry).values(**forged))

    result = _verify(session)

    assert (result.problem, result.first_bad_seq) == (Problem.CHANGED, 3)


def test_a_deleted_head_is_reported_and_appends_fail_closed(session: Session) -> None:
    _append(session, 2)
    session.execute(text("DELETE FROM audit_head"))

    result = _verify(session)

    assert (result.ok, result.problem) == (False, Problem.HEAD)
    with pytest.raises(AuditChainHeadMissing):
        _append(session, 1)


# ---------------------------------------------------------------------------------------------- searching


@pytest.fixture
def trail(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """Six entries an hour apart from 2025-03-01 08:00 UTC, by two actors in two tenants."""
    clock = iter(dt.datetime(2025, 3, 1, 8, tzinfo=dt.UTC) + dt.timedelta(hours=h) for h in range(100))
    monkeypatch.setattr(service, "utcnow", lambda: next(clock))
    other = principal(
        "teller",
        role=Role.BANK_BRANCH_OFFICER,
        org_kind=OrgKind.BANK_BRANCH,
        org_id="org-branch",
        tenant_id="t-2",
    )
    rows = [
        (BANKER, "party.org.read", "organisation", ["org-1", "org-2"], "ok"),
        (BANKER, "party.user.read", "user", ["abc"], "ok"),
        (other, "banking.account.read", "account", ["acct-1"], "denied"),
        (BANKER, "party.org.update", "organisation", ["org-2"], "ok"),
        (other, "party_x.org.read", "organisation", ["ab"], "not_found"),
        (BANKER, "consent.grant.create", "grant", ["g-1"], "error"),
    ]
    for actor, action, subject_type, ids, outcome in rows:
        service.record(
            session, actor, action=action, subject_type=subject_type, subject_ids=ids, outcome=outcome
        )
    yield session


SEARCHES: list[tuple[dict[str, Any], list[int]]] = [
    ({}, [6, 5, 4, 3, 2, 1]),
    ({"actor_id": "user-banker"}, [6, 4, 2, 1]),
    ({"org_id": "org-branch"}, [5, 3]),
    ({"action": "party.org.read"}, [1]),
    ({"action": "party.*"}, [4, 2, 1]),  # not party_x.*: "_" is no wildcard
    ({"action": "party.org.*"}, [4, 1]),
    ({"subject_type": "organisation"}, [5, 4, 1]),
    ({"subject_id": "org-2"}, [4, 1]),
    ({"subject_id": "ab"}, [5]),  # whole ids only: not inside "abc"
    ({"subject_id": "ORG-1"}, [1]),
    ({"outcome": "denied"}, [3]),
    ({"since": "2025-03-01T10:00:00Z", "until": "2025-03-01T12:00:00Z"}, [4, 3]),
    ({"since": "2025-03-01 19:00:00"}, [6, 5, 4]),  # no offset: Asia/Shanghai (11:00 UTC)
    ({"actor_id": "user-banker", "action": "party.*", "outcome": "ok"}, [4, 2, 1]),
    ({"actor_id": "nobody"}, []),
]


@pytest.mark.parametrize(("filters", "seqs"), SEARCHES, ids=[str(s[0]) for s in SEARCHES])
def test_search_filters_newest_first(trail: Session, filters: dict[str, Any], seqs: list[int]) -> None:
    page = service.search(trail, SUPERVISOR, AuditFilter.model_validate(filters), PageRequest())
    assert [e.seq for e in page.items] == seqs
    assert page.next_cursor is None


def test_search_pages_with_a_cursor(trail: Session) -> None:
    seen: list[int] = []
    cursor: str | None = None
    while True:
        page = service.search(trail, SUPERVISOR, AuditFilter(), PageRequest(limit=4, cursor=cursor))
        seen += [e.seq for e in page.items if e.action != "audit.search"]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [6, 5, 4, 3, 2, 1]


def test_search_returns_entries_as_recorded(trail: Session) -> None:
    [item] = service.search(trail, SUPERVISOR, AuditFilter(outcome=Outcome.DENIED), PageRequest()).items
    assert (item.actor_name, item.subject_ids, item.detail, item.purpose) == (
        "teller",
        ["acct-1"],
        None,
        None,
    )
    assert item.at == dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)
    assert len(item.hash) == 64 and len(item.prev_hash) == 64


def test_search_is_audited_with_what_was_shown(trail: Session) -> None:
    service.search(trail, ANALYST, AuditFilter(action="party.*"), PageRequest(limit=2))

    entry = _last(trail)
    assert (entry.action, entry.actor_id, entry.subject_type) == (
        "audit.search",
        "user-analyst",
        "audit_entry",
    )
    assert entry.detail == (
        '{"cursor":null,"filters":{"action":"party.*"},"newest_seq":4,"oldest_seq":2,"returned":2}'
    )


def test_search_needs_audit_read(trail: Session) -> None:
    with pytest.raises(PermissionDenied):
        service.search(trail, BANKER, AuditFilter(), PageRequest())


def test_search_outside_the_regulator_sees_only_its_own_tenant(trail: Session) -> None:
    auditor = principal(
        "bank-auditor",
        role=Role.BANK_HQ_RISK,
        org_kind=OrgKind.BANK_HEAD_OFFICE,
        org_id="org-bank",
        tenant_id="tenant-bank",
        perms=frozenset({Perm.AUDIT_READ}),
    )
    page = service.search(trail, auditor, AuditFilter(), PageRequest())
    assert [e.seq for e in page.items] == [6, 4, 2, 1]


def test_search_still_shows_rows_whose_json_was_mangled(trail: Session) -> None:
    trail.execute(text("UPDATE audit_entries SET subject_ids = 'oops', detail = '[1]' WHERE seq = 1"))
    [item] = service.search(trail, SUPERVISOR, AuditFilter(action="party.org.read"), PageRequest()).items
    assert (item.subject_ids, item.detail) == (["oops"], {"unparsed": "[1]"})
