"""Concurrent appenders on separate connections must still produce one gapless, valid chain.

Uses committed data on its own engine (the fixture's rolled-back transaction cannot show concurrency) and
deletes what it wrote afterwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import service
from jinyu.audit.models import AuditEntry, AuditHead
from jinyu.core import db
from jinyu.core.auth import OrgKind, Role
from tests.audit.factories import principal

PER_THREAD = 25


@pytest.fixture
def committing_factory(db_engine: Engine) -> Iterator[sessionmaker[Session]]:
    engine = db.make_engine(db_engine.url.render_as_string(hide_password=False))
    factory = db.make_sessionmaker(engine)
    with db.transaction(factory) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0, "expects an empty committed trail"
    try:
        yield factory
    finally:
        with db.transaction(factory) as s:
            s.execute(delete(AuditEntry))
            s.execute(delete(AuditHead))
        engine.dispose()


def test_two_concurrent_appenders_make_one_gapless_valid_chain(
    committing_factory: sessionmaker[Session],
) -> None:
    actors = [
        principal(
            f"teller-{i}", role=Role.BANK_BRANCH_OFFICER, org_kind=OrgKind.BANK_BRANCH, org_id=f"org-{i}"
        )
        for i in range(2)
    ]
    start = threading.Barrier(len(actors))
    errors: list[BaseException] = []

    def append_many(index: int) -> None:
        try:
            start.wait(timeout=30)
            for n in range(PER_THREAD):
                with db.transaction(committing_factory) as s:
                    service.record(s, actors[index], action="banking.account.read", subject_type="account",
                                   subject_ids=[f"acct-{index}-{n}"])  # fmt: skip
                    time.sleep(0.001)  # hold the head lock a moment, so the other thread must queue
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=append_many, args=(i,)) for i in range(len(actors))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    with db.transaction(committing_factory) as s:
        seqs = list(s.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        per_actor = dict(
            s.execute(select(AuditEntry.actor_id, func.count()).group_by(AuditEntry.actor_id)).all()
        )
        result = service.verify(s, principal("supervisor"))
    assert seqs == list(range(1, 2 * PER_THREAD + 1))
    assert per_actor == {a.subject_id: PER_THREAD for a in actors}
    assert (result.ok, result.checked) == (True, 2 * PER_THREAD), result.message
