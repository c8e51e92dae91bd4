"""A settlement's JSON documents (bill, result, funding) as the write batch stores them on PostgreSQL (orjson's
compact UTF-8 text since h-bn, the json module's escaped text before): every reader gets the same objects, the
answers replayed from them are byte-identical to the first ones, and rows stored the old way read the same."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from jinyu.claim import service
from jinyu.claim.models import ClaimPayoutEntry, ClaimSettlement
from jinyu.claim.service import batch
from jinyu.claim.service.common import settlement_out
from jinyu.claim.service.settlement import direct_claim
from jinyu.core import db
from tests.claim.factories import KEY
from tests.claim.test_batch_pg import bills, enrolled_world

pytestmark = pytest.mark.postgres


def test_stored_documents_read_back_as_answered(pg_factory: sessionmaker[Session]) -> None:
    w, people = enrolled_world(pg_factory)
    data = bills(w, people, "DOC")  # three confirmed at once, three pending
    with db.transaction(pg_factory) as s:
        results = batch.settle_batch(s, [batch.Job(w.his, d, KEY, time.monotonic()) for d in data])
    assert all(isinstance(r, service.Settled) for r in results)
    answers = [r.settlement for r in results if isinstance(r, service.Settled)]
    with db.transaction(pg_factory) as s:
        for d, first in zip(data, answers, strict=True):
            row = s.get(ClaimSettlement, first.id)
            assert row is not None
            stored = s.execute(
                text("SELECT bill::text, result::text FROM claim_settlements WHERE id = :id"), {"id": row.id}
            ).one()
            # the new text: UTF-8 (no \\u escapes), compact; it decodes to what the ORM reads
            assert "医保目录" in stored.result and "\\u" not in stored.result and '": ' not in stored.result
            assert json.loads(stored.result) == row.result
            # the bill: the canonical document the request became (built again here from the request)
            assert json.loads(stored.bill) == row.bill == direct_claim(w.his, d, KEY).doc
            # the answer re-read from the stored result is the first answer, byte for byte
            assert settlement_out(row).model_dump_json() == first.model_dump_json()
    with db.transaction(pg_factory) as s:  # a replay answers from the stored row: the same bytes
        again = service.settle(s, w.his, data[0], KEY)
    assert again.replayed
    assert again.settlement.model_dump_json() == answers[0].model_dump_json()
    pending = max(
        (a for d, a in zip(data, answers, strict=True) if not d.auto_confirm), key=lambda a: a.payout
    )
    with db.transaction(pg_factory) as s:  # confirming reads the stored funding: payouts as split
        service.confirm(s, w.his, pending.id)
        paid = s.scalars(select(ClaimPayoutEntry.amount).where(ClaimPayoutEntry.settlement_id == pending.id))
        assert sum(paid) == pending.payout > 0


def test_a_row_stored_the_old_way_reads_the_same(pg_factory: sessionmaker[Session]) -> None:
    w, people = enrolled_world(pg_factory)
    data = bills(w, people, "OLD")[1]
    with db.transaction(pg_factory) as s:
        (result,) = batch.settle_batch(s, [batch.Job(w.his, data, KEY, time.monotonic())])
    assert isinstance(result, service.Settled)
    first = result.settlement
    with db.transaction(pg_factory) as s:  # rewrite the documents as the json module stored them before h-bn
        row = s.get(ClaimSettlement, first.id)
        assert row is not None
        old = {c: json.dumps(getattr(row, c)) for c in ("bill", "result", "funding")}
        assert "\\u533b\\u4fdd" in old["result"]  # 医保, escaped
        s.execute(
            text(
                "UPDATE claim_settlements SET bill = CAST(:bill AS json), result = CAST(:result AS json), "
                "funding = CAST(:funding AS json) WHERE id = :id"
            ),
            {**old, "id": row.id},
        )
    with db.transaction(pg_factory) as s:
        row = s.get(ClaimSettlement, first.id)
        assert row is not None
        assert (
            s.scalar(text("SELECT result::text FROM claim_settlements WHERE id = :id"), {"id": row.id})
            == (old["result"])
        )
        assert settlement_out(row).model_dump_json() == first.model_dump_json()
        again = service.settle(s, w.his, data, KEY)
    assert again.replayed and again.settlement.model_dump_json() == first.model_dump_json()
