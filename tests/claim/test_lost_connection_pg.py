"""A lost database connection in the settlement thread (PostgreSQL): the batch's, the single path's, or at
commit. Every discharge is answered once — settled, or `DatabaseUnavailable` (503, retry) — and a retry of
the same message settles it exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jinyu.claim import service
from jinyu.claim.batcher import SettlementBatcher
from jinyu.claim.schemas import SettleIn
from jinyu.core import db
from jinyu.core.errors import DatabaseUnavailable
from tests.claim.factories import KEY
from tests.claim.lost import PAYOUT, Hospital, hospital, settled_once
from tests.fixtures.pgfaults import Killer, in_settlement_thread, killed_at_checkout, lost_after_commit

pytestmark = pytest.mark.postgres
PEOPLE = 6


@pytest.fixture
def batcher(service_engine: Engine) -> Iterator[SettlementBatcher]:
    b = SettlementBatcher(db.make_sessionmaker(service_engine), max_batch=32)
    yield b
    b.stop()


def settle_all(batcher: SettlementBatcher, h: Hospital, bills: list[SettleIn]) -> list[Any]:
    async def at_once() -> list[Any]:
        return await asyncio.gather(*(batcher.settle(h.w.his, d, KEY) for d in bills), return_exceptions=True)

    return asyncio.run(at_once())


def test_a_batch_that_loses_its_connection_settles_each_on_its_own(
    pg_factory: sessionmaker[Session], service_engine: Engine, killer: Killer, batcher: SettlementBatcher
) -> None:
    """The first transaction of the settlement thread finds its connection terminated: that batch is
    abandoned and each of its discharges settles alone, on a connection of its own."""
    h = hospital(pg_factory, PEOPLE)
    bills = [h.bill(n) for n in range(PEOPLE)]
    with killed_at_checkout(service_engine, killer, lambda n: n == 1, in_settlement_thread) as hit:
        answers = settle_all(batcher, h, bills)
    assert hit == [1]
    assert [type(a) for a in answers] == [service.Settled] * PEOPLE, answers
    assert not any(a.replayed for a in answers)
    assert {a.settlement.payout for a in answers} == {PAYOUT}
    ids = settled_once(pg_factory, h, {d.msg_id for d in bills})
    assert {d.msg_id: a.settlement.id for d, a in zip(bills, answers, strict=True)} == ids


def test_a_discharge_whose_connections_are_all_lost_is_answered_unavailable_and_the_retry_settles_once(
    pg_factory: sessionmaker[Session], service_engine: Engine, killer: Killer, batcher: SettlementBatcher
) -> None:
    """A lone discharge: its batch of one loses the connection, and so does the single path it is handed back
    to. The answer is `DatabaseUnavailable` (nothing was committed); the retry of the same message settles it
    once, and a second retry is a replay."""
    h = hospital(pg_factory, 1)
    bill = h.bill(0)
    with killed_at_checkout(service_engine, killer, lambda n: n <= 2, in_settlement_thread) as hit:
        [answer] = settle_all(batcher, h, [bill])
    assert hit == [1, 2]
    assert isinstance(answer, DatabaseUnavailable), answer
    assert answer.status == 503 and answer.headers() == {"Retry-After": "1"}
    [first] = settle_all(batcher, h, [bill])
    assert isinstance(first, service.Settled), first
    assert not first.replayed and first.settlement.payout == PAYOUT
    [again] = settle_all(batcher, h, [bill])
    assert isinstance(again, service.Settled) and again.replayed
    assert again.settlement == first.settlement
    assert settled_once(pg_factory, h, {bill.msg_id}) == {bill.msg_id: first.settlement.id}


def test_a_batch_whose_commit_is_lost_answers_what_it_committed(
    pg_factory: sessionmaker[Session], service_engine: Engine, killer: Killer, batcher: SettlementBatcher
) -> None:
    """The server committed the batch, then the connection went before the client heard: the outcome is
    unknown to the batcher, which settles each discharge on its own — and each finds its committed settlement
    by its message id and answers it (a replay of the stored result), never a second payment."""
    h = hospital(pg_factory, PEOPLE)
    bills = [h.bill(n) for n in range(PEOPLE)]
    with lost_after_commit(service_engine, killer, lambda n: n == 1, in_settlement_thread) as hit:
        answers = settle_all(batcher, h, bills)
    assert hit == [1]
    assert [type(a) for a in answers] == [service.Settled] * PEOPLE, answers
    assert any(a.replayed for a in answers)  # those of the batch whose commit was lost
    assert {a.settlement.payout for a in answers} == {PAYOUT}
    ids = settled_once(pg_factory, h, {d.msg_id for d in bills})
    assert {d.msg_id: a.settlement.id for d, a in zip(bills, answers, strict=True)} == ids


def test_a_single_settlement_whose_commit_is_lost_is_found_by_the_retry(
    pg_factory: sessionmaker[Session], service_engine: Engine, killer: Killer, batcher: SettlementBatcher
) -> None:
    """The single path commits, then its connection goes: the outcome is unknown, the answer is
    `DatabaseUnavailable`; the retry of the same message finds the committed settlement and answers it as a
    replay, paid once."""
    h = hospital(pg_factory, 1)
    bill = h.bill(0)
    with (
        killed_at_checkout(service_engine, killer, lambda n: n == 1, in_settlement_thread) as lost_batch,
        lost_after_commit(service_engine, killer, lambda n: n == 1, in_settlement_thread) as lost_commit,
    ):
        [answer] = settle_all(batcher, h, [bill])
    assert lost_batch == [1] and lost_commit == [1]
    assert isinstance(answer, DatabaseUnavailable), answer
    ids = settled_once(pg_factory, h, {bill.msg_id})  # committed, though the answer was lost
    [retry] = settle_all(batcher, h, [bill])
    assert isinstance(retry, service.Settled), retry
    assert retry.replayed and retry.settlement.id == ids[bill.msg_id]
    assert retry.settlement.payout == PAYOUT
    assert settled_once(pg_factory, h, {bill.msg_id}) == ids


def test_a_discharge_handed_back_whose_single_path_loses_its_connection_is_answered_unavailable(
    pg_factory: sessionmaker[Session], service_engine: Engine, killer: Killer, batcher: SettlementBatcher
) -> None:
    """A message sent again is handed back by the batch to the single path (a replay); that path loses its
    connection: the answer is `DatabaseUnavailable`, the other discharge settles, and the retry replays."""
    h = hospital(pg_factory, 2)
    first, other = h.bill(0), h.bill(1)
    [settled] = settle_all(batcher, h, [first])
    assert isinstance(settled, service.Settled) and not settled.replayed
    # queued first, the replay's batch (1) hands it back, and its single path (2) loses the connection
    with killed_at_checkout(service_engine, killer, lambda n: n == 2, in_settlement_thread) as hit:
        replay, fresh = settle_all(batcher, h, [first, other])
    assert hit == [2]
    assert isinstance(replay, DatabaseUnavailable), replay
    assert isinstance(fresh, service.Settled) and not fresh.replayed, fresh
    [again] = settle_all(batcher, h, [first])
    assert isinstance(again, service.Settled) and again.replayed
    assert again.settlement == settled.settlement
    assert settled_once(pg_factory, h, {first.msg_id, other.msg_id}) == {
        first.msg_id: settled.settlement.id,
        other.msg_id: fresh.settlement.id,
    }
