"""Crash tests on PostgreSQL: a worker killed mid-settlement, or its connection cut, pays nothing and loses
nothing; the hospital's retry of the same message settles exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from jinyu.claim import repository as repo
from jinyu.claim import service
from jinyu.claim.models import ClaimLedgerJournal, ClaimSettlement
from jinyu.claim.rules.ledger import balances_of
from jinyu.claim.service.ledger import balances
from jinyu.core import db
from tests.claim.factories import KEY, D, World, settle_in, world

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
BILL = {
    "inscp_scp_amt": "40000.00",
    "fulamt_ownpay_amt": "10000.00",
    "hifp_pay": "24000.00",
    "auto_confirm": True,
}
PAYOUT = D("4200.00")


def committed_world(factory: sessionmaker[Session]) -> World:
    with db.transaction(factory) as s:
        return world(s)


def run_worker(factory: sessionmaker[Session], w: World, mode: str) -> subprocess.Popen[str]:
    url = factory.kw["bind"].url.render_as_string(hide_password=False)
    job = {
        "url": url,
        "mode": mode,
        "key": KEY.decode(),
        "principal": {
            "subject_id": w.his.subject_id,
            "org_id": w.his.org_id,
            "tenant_id": w.his.tenant_id,
            "org_path": w.his.org_path,
        },
        "request": settle_in(w, "msg-1", **BILL).model_dump(mode="json") | {"certno": w.certno},
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.claim.crash_worker"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(job))
    proc.stdin.close()
    return proc


def wait_for(proc: subprocess.Popen[str], word: str) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != word:
        proc.kill()
        raise AssertionError(f"worker said {line!r}, stderr: {proc.stderr.read() if proc.stderr else ''}")


def state(factory: sessionmaker[Session], w: World) -> tuple[int, int, object]:
    with db.transaction(factory) as s:
        settlements = s.scalar(select(func.count()).select_from(ClaimSettlement)) or 0
        journals = s.scalar(select(func.count()).select_from(ClaimLedgerJournal)) or 0
        book = repo.lock_book(s, w.book_id)
        assert balances(book) == balances_of(repo.book_postings(s, w.book_id))
        return settlements, journals, book.claims


def retry(factory: sessionmaker[Session], w: World) -> service.Settled:
    with db.transaction(factory) as s:
        return service.settle(s, w.his, settle_in(w, "msg-1", **BILL), KEY)


def test_worker_killed_before_commit_pays_nothing_and_the_retry_settles_once(
    pg_factory: sessionmaker[Session],
) -> None:
    w = committed_world(pg_factory)
    journals_before = state(pg_factory, w)[1]  # the initial deposit
    proc = run_worker(pg_factory, w, "hang")
    wait_for(proc, "READY")  # all writes flushed, locks held
    proc.kill()
    proc.wait(timeout=30)
    assert state(pg_factory, w) == (0, journals_before, D("0.00"))
    first = retry(pg_factory, w)
    assert not first.replayed and first.settlement.payout == PAYOUT
    assert retry(pg_factory, w).replayed
    assert state(pg_factory, w) == (1, journals_before + 1, PAYOUT)


def test_worker_killed_after_commit_the_retry_is_a_replay(pg_factory: sessionmaker[Session]) -> None:
    w = committed_world(pg_factory)
    proc = run_worker(pg_factory, w, "die_after_commit")
    wait_for(proc, "COMMITTED")
    proc.wait(timeout=30)
    again = retry(pg_factory, w)
    assert again.replayed and again.settlement.payout == PAYOUT
    assert state(pg_factory, w)[0::2] == (1, PAYOUT)


def test_connection_cut_mid_transaction(pg_factory: sessionmaker[Session]) -> None:
    w = committed_world(pg_factory)
    session = pg_factory()
    service.settle(session, w.his, settle_in(w, "msg-1", **BILL), KEY)
    session.flush()
    pid = session.scalar(text("SELECT pg_backend_pid()"))
    with db.transaction(pg_factory) as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(Exception):  # noqa: B017 - the driver reports the cut connection its own way
        session.commit()
    session.close()
    assert state(pg_factory, w)[0::2] == (0, D("0.00"))
    done = threading.Event()
    result: list[service.Settled] = []

    def again() -> None:
        result.append(retry(pg_factory, w))
        done.set()

    threading.Thread(target=again).start()
    assert done.wait(timeout=60), "the retry waited on a lock the dead transaction still held"
    assert not result[0].replayed and result[0].settlement.payout == PAYOUT
    assert state(pg_factory, w)[0::2] == (1, PAYOUT)
