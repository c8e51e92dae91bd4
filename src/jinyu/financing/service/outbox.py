"""The webhook outbox: every order event for a bank becomes a message in the same transaction (so a committed
event is never lost and a rolled-back one is never sent). `tasks.deliver_webhooks` sends them."""

from __future__ import annotations

import base64
import json
import secrets

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.db import new_id
from jinyu.core.errors import FieldError, InvalidInput
from jinyu.financing.models import OutboxMessage, WebhookEndpoint, WorkOrder
from jinyu.party.service import lookup


def enqueue(session: Session, order: WorkOrder, event_type: str) -> None:
    payload = {
        "type": f"financing.order.{event_type}",
        "timestamp": order.updated_at.isoformat(),
        "data": {
            "order_id": order.id,
            "demand_id": order.demand_id,
            "state": order.state,
            "bank_id": order.bank_id,
            "outlet_id": order.outlet_id,
            "manager_id": order.manager_id,
            "amount_requested": str(order.amount_requested),
            "contact_due": order.contact_due.isoformat(),
            "decision_due": order.decision_due.isoformat(),
        },
    }
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    session.add(
        OutboxMessage(
            id=f"msg_{new_id()}", bank_id=order.bank_id, order_id=order.id, event_type=payload["type"],
            payload=body, next_attempt_at=order.updated_at,
        )
    )  # fmt: skip


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def set_endpoint(session: Session, principal: Principal, bank_id: str, url: str) -> str:
    """Register (or replace) a bank's webhook URL; returns the new signing secret (shown once)."""
    principal.require(Perm.FINANCING_MANAGE)
    bank = lookup.org_facts(session, bank_id)
    problems = []
    if bank is None or bank.kind != OrgKind.BANK_HEAD_OFFICE.value:
        problems.append(FieldError("bank_id", "不是银行总行 / not a bank head office"))
    if not url.startswith(("https://", "http://")):
        problems.append(FieldError("url", "须为 http(s) 地址 / must be an http(s) URL"))
    if problems:
        raise InvalidInput(fields=problems)
    secret = new_secret()
    endpoint = session.get(WebhookEndpoint, bank_id)
    if endpoint is None:
        session.add(WebhookEndpoint(bank_id=bank_id, url=url, secret=secret))
    else:
        endpoint.url, endpoint.secret = url, secret
    audit.record(
        session, principal, action="financing.webhook.set", subject_type="organisation", subject_ids=[bank_id],
        detail={"url": url},
    )  # fmt: skip
    return secret
