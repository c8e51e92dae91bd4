"""Background job: deliver the webhook outbox to the banks' systems (Standard Webhooks signatures).

At least once: a message is marked delivered only after a 2xx answer, in its own committed transaction; any
other answer, a timeout or a refused connection records the error and schedules the next attempt with
back-off (rules.retry_delay_seconds). Receivers deduplicate by the `webhook-id` header.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook

from jinyu.core.clock import utcnow
from jinyu.core.db import transaction
from jinyu.financing.models import OutboxMessage, WebhookEndpoint
from jinyu.financing.rules import retry_delay_seconds


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    pending: int = 0


def _due(session: Session, now: dt.datetime, limit: int) -> list[tuple[str, str, str]]:
    stmt = (
        select(OutboxMessage.id, WebhookEndpoint.url, WebhookEndpoint.secret)
        .join(WebhookEndpoint, WebhookEndpoint.bank_id == OutboxMessage.bank_id)
        .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(limit)
    )
    return [(i, u, s) for i, u, s in session.execute(stmt)]


def _send(
    client: httpx.Client, url: str, secret: str, message: OutboxMessage, now: dt.datetime
) -> str | None:
    """None on a 2xx answer, else the reason it failed."""
    signature = Webhook(secret).sign(message.id, now, message.payload)
    headers = {
        "content-type": "application/json",
        "webhook-id": message.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    try:
        answer = client.post(url, content=message.payload.encode(), headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    return None if answer.is_success else f"HTTP {answer.status_code}"


def deliver_webhooks(
    factory: sessionmaker[Session], client: httpx.Client, now: dt.datetime | None = None, limit: int = 500
) -> DeliveryReport:
    now = now or utcnow()
    report = DeliveryReport()
    with transaction(factory) as session:
        due = _due(session, now, limit)
    for message_id, url, secret in due:
        with transaction(factory) as session:
            message = session.get(OutboxMessage, message_id, with_for_update=True)
            if message is None or message.delivered_at is not None:
                continue  # another deliverer got it first
            error = _send(client, url, secret, message, now)
            message.attempts += 1
            if error is None:
                message.delivered_at, message.last_error = now, None
                report.delivered += 1
            else:
                message.last_error = error
                message.next_attempt_at = now + dt.timedelta(seconds=retry_delay_seconds(message.attempts))
                report.failed += 1
    with transaction(factory) as session:
        report.pending = (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .join(WebhookEndpoint, WebhookEndpoint.bank_id == OutboxMessage.bank_id)
                .where(OutboxMessage.delivered_at.is_(None))
            )
            or 0
        )
    return report
