"""Journaled entries (a server with a sealer): no chain-head lock in the business transaction, and the sealer
links every committed entry into one gapless, valid chain, also under concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import service
from jinyu.audit.models import AuditEntry, AuditHead
from jinyu.audit.schemas import AuditFilter, PageRequest
from jinyu.audit.sealer import Sealer
from jinyu.core import db
from jinyu.core.auth import OrgKind, Role
from tests.audit.factories import principal

TELLER = principal("teller", role=Role.BANK_BRANCH_OFFICER, org_kind=OrgKind.BANK_BRANCH, org_id="org-b")


@pytest.fixture
def journal_db(db_engine: Engine) -> Iterator[tuple[sessionmaker[Session], Engine]]:
    """Committed data on its own engine, journaling on; cleaned afterwards."""
    engine = db.make_engine(db_engine.url.render_as_string(hide_password=False))
    factory = db.make_sessionmaker(engine)
    with db.transaction(factory) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0, "expects an empty committed trail"
    service.journal_for(engine, True)
    try:
        yield factory, engine
    finally:
        service.journal_for(engine, False)
        with db.transaction(factory) as s:
            s.execute(delete(AuditEntry))
            s.execute(delete(AuditHead))
        engine.dispose()


def _record(factory: sessionmaker[Session], n: int) -> None:
    with db.transaction(factory) as s:
        service.record(
            s, TELLER, action="banking.account.read", subject_type="account", subject_ids=[f"a-{n}"]
        )


def _seqs(factory: sessionmaker[Session]) -> list[int | None]:
    with db.transaction(factory) as s:
        return list(s.scalars(select(AuditEntry.seq).order_by(AuditEntry.at, AuditEntry.id)))


def test_journaled_entries_take_no_head_and_seal_in_time_order(
    journal_db: tuple[sessionmaker[Session], Engine],
) -> None:
    factory, _ = journal_db
    for n in range(5):
        _record(factory, n)
    assert _seqs(factory) == [None] * 5
    with db.transaction(factory) as s:
        assert s.scalar(select(func.count()).select_from(AuditHead)) == 0  # nobody touched the head
        assert service.seal(s) == 5
    assert _seqs(factory) == [1, 2, 3, 4, 5]
    with db.transaction(factory) as s:
        result = service.verify(s, principal("supervisor"))
    assert (result.ok, result.checked) == (True, 5), result.message


def test_verify_and_search_seal_what_waits(journal_db: tuple[sessionmaker[Session], Engine]) -> None:
    factory, _ = journal_db
    for n in range(3):
        _record(factory, n)
    with db.transaction(factory) as s:
        page = service.search(s, principal("supervisor"), AuditFilter(), PageRequest(limit=10))
    assert [e.seq for e in page.items] == [3, 2, 1]
    _record(factory, 3)
    with db.transaction(factory) as s:
        result = service.verify(s, principal("supervisor"))
    # 3 records, the search, 1 more record: all sealed before the walk
    assert (result.ok, result.checked) == (True, 5), result.message


def test_a_journaled_entry_changed_after_sealing_is_caught(
    journal_db: tuple[sessionmaker[Session], Engine],
) -> None:
    factory, _ = journal_db
    for n in range(4):
        _record(factory, n)
    with db.transaction(factory) as s:
        service.seal_all(s)
        s.execute(text("UPDATE audit_entries SET subject_ids = '[\"forged\"]' WHERE seq = 2"))
    with db.transaction(factory) as s:
        result = service.verify(s, principal("supervisor"))
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_the_sealer_links_concurrent_writers_into_one_gapless_chain(
    journal_db: tuple[sessionmaker[Session], Engine],
) -> None:
    factory, engine = journal_db
    sealer = Sealer(factory, engine, interval=0.01)
    sealer.start()
    errors: list[BaseException] = []
    per_thread, threads_n = 30, 3
    start = threading.Barrier(threads_n)

    def write(index: int) -> None:
        try:
            start.wait(timeout=30)
            for n in range(per_thread):
                _record(factory, index * 1000 + n)
                if n % 10 == 0:
                    sealer.wake()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(i,)) for i in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    sealer.stop()
    assert errors == []
    total = per_thread * threads_n
    with db.transaction(factory) as s:
        seqs = list(s.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
    assert seqs == list(range(1, total + 1))
    assert sealer.sealed == total
    with db.transaction(factory) as s:
        result = service.verify(s, principal("supervisor"))
    assert (result.ok, result.checked) == (True, total), result.message


def test_after_stop_entries_are_chained_inline_again(
    journal_db: tuple[sessionmaker[Session], Engine],
) -> None:
    factory, engine = journal_db
    sealer = Sealer(factory, engine)
    sealer.start()
    _record(factory, 1)
    sealer.stop()
    _record(factory, 2)  # no sealer any more: linked at once
    assert _seqs(factory) == [1, 2]


def test_no_sealer_for_sqlite_or_an_unbound_factory(db_engine: Engine) -> None:
    factory = db.make_sessionmaker(db_engine)
    made = Sealer.for_factory(factory)
    assert (made is None) == (db_engine.dialect.name == "sqlite")
    assert Sealer.for_factory(sessionmaker()) is None
