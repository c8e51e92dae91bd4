"""The webhook outbox against a receiver that fails: messages are retried with back-off until delivered, none
is lost, a duplicate (the answer lost after the receiver processed it) is deduplicated by `webhook-id`, and
every signature verifies by the Standard Webhooks spec, checked here by hand (HMAC-SHA256, not the library)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.core.db import transaction
from jinyu.financing import service
from jinyu.financing.calendars import load_calendar
from jinyu.financing.models import OutboxMessage
from jinyu.financing.rules import Action, retry_delay_seconds
from jinyu.financing.schemas import DemandCreate, Security, Transition
from jinyu.financing.tasks import deliver_webhooks
from tests.fixtures.auth import make_org, principal

CAL = load_calendar(Path("/nonexistent"))
T0 = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)


class FlakyBank:
    """Answers 500 to its 1st call, refuses the 2nd connection, and loses the answer of the 3rd (processes it,
    then answers 503); everything after succeeds. Keeps each webhook-id once."""

    def __init__(self, secret: str) -> None:
        self.key = base64.b64decode(secret.removeprefix("whsec_"))
        self.calls = 0
        self.seen: dict[str, dict[str, object]] = {}
        self.duplicates = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls == 1:
            return httpx.Response(500)
        if self.calls == 2:
            raise httpx.ConnectError("refused", request=request)
        msg_id, ts = request.headers["webhook-id"], request.headers["webhook-timestamp"]
        body = request.content
        expected = base64.b64encode(
            hmac.new(self.key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
        )
        assert request.headers["webhook-signature"] == "v1," + expected.decode()
        if msg_id in self.seen:
            self.duplicates += 1
        else:
            self.seen[msg_id] = json.loads(body)
        return httpx.Response(503 if self.calls == 3 else 204)


def test_a_failing_receiver_gets_every_message_once(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    ent = principal(session, make_org(session, OrgKind.ENTERPRISE), Role.ENTERPRISE_ADMIN)
    hq = principal(session, bank, Role.BANK_HQ_RISK)
    secret = service.outbox.set_endpoint(session, SYSTEM, bank.id, "https://bank.example/hooks")
    data = DemandCreate(
        amount="2000000.00",
        term_months=6,
        purpose="周转",
        security=Security.CREDIT,
        preferred_bank_ids=[bank.id],
    )
    order = service.post_demand(session, ent, data, CAL, now=T0).order
    service.act(session, hq, order.id, Transition(action=Action.ACCEPT), CAL, now=T0)
    service.act(session, hq, order.id, Transition(action=Action.CONTACT), CAL, now=T0)
    session.commit()

    receiver = FlakyBank(secret)
    client = httpx.Client(transport=httpx.MockTransport(receiver))
    now, rounds = T0, 0
    while True:
        report = deliver_webhooks(session_factory, client, now=now)
        rounds += 1
        if report.pending == 0 or rounds > 20:
            break
        now += dt.timedelta(seconds=retry_delay_seconds(8))  # past any back-off reached here
    assert report.pending == 0 and rounds == 2
    with transaction(session_factory) as s:
        messages = list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id)))
        assert all(m.delivered_at is not None for m in messages)
        assert [m.attempts for m in messages] == [2, 2, 2]  # round 1: 500, refused, answer lost
        ids = [m.id for m in messages]
    assert set(receiver.seen) == set(ids) and len(ids) == 3
    assert receiver.duplicates == 1
    types = sorted(str(m["type"]) for m in receiver.seen.values())
    assert types == ["financing.order.accept", "financing.order.contact", "financing.order.dispatch"]


def test_back_off_doubles_and_is_capped() -> None:
    assert [retry_delay_seconds(n) for n in (1, 2, 3, 4, 10, 30)] == [30, 60, 120, 240, 15360, 21600]
