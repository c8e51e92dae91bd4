"""The direct one-loan GET routes (`risk.tracing.fastroute`, mounted by `core.asgi.Edge` by path template)
answer exactly as the FastAPI routes they stand in for: every request here is made twice, once through the
direct handler (checked to have been taken) and once through the framework's routing (the edge's template
match switched off), and the two answers are compared byte for byte — status, headers and body; a success's
inquiry id, the one value drawn at random, is blanked on both sides. Then the records: the same audit entries
(actions, outcomes, subjects, details) and inquiry rows for both, and the audit chain verifies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jinyu.analytics.flowindex import shared_indexes
from jinyu.audit import service as audit
from jinyu.audit.models import AuditEntry
from jinyu.config import Settings
from jinyu.core.asgi import Edge
from jinyu.core.errors import DatabaseUnavailable
from jinyu.party.models import User
from jinyu.risk.models import RiskInquiry
from jinyu.risk.tracing import service
from jinyu.risk.tracing.fastroute import OneLoanRoute
from jinyu.risk.tracing.service.context import shared_contexts
from tests.audit.factories import principal
from tests.fixtures.auth import login

API = "/api/v1/risk/loans"
RID = {"X-Request-ID": "fastroute-test"}  # the id echoed in headers and 500 bodies: the same on both sides
# The two values of a success drawn anew per request: its inquiry's id and the time its basis was computed.
DRAWN = re.compile(rb'"(inquiry_id|computed_at)":"[^"]+"')


@pytest.fixture
def tokens(client: TestClient, users: dict[str, User], settings: Settings) -> dict[str, dict[str, str]]:
    # each token used once first, so the one-trip path (a token this process has seen) is the one compared
    found = {name: login(client, user.username) for name, user in users.items()}
    for headers in found.values():
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    # the serving process's resident index and context built first: both sides then trace on them
    assert client.get(f"{API}/L1/return-flow", headers=found["hq"]).status_code == 200
    shared_indexes().wait()
    contexts = shared_contexts()
    contexts.get(settings.lake_dir)
    contexts.wait()
    return found


def _both(client: TestClient, monkeypatch: pytest.MonkeyPatch, url: str, **kw: Any) -> list[httpx.Response]:
    """The request through the direct handler, then through the framework's routing."""
    taken: list[str] = []
    real = OneLoanRoute.__call__

    async def spy(self: OneLoanRoute, scope: Any, receive: Any, send: Any) -> None:
        taken.append(scope["path"])
        await real(self, scope, receive, send)

    # 401s are audited once per client address per interval: forgotten before each side, so both are audited
    gate = client.app.state.unauthenticated.gate  # type: ignore[attr-defined]
    with monkeypatch.context() as m:
        m.setattr(OneLoanRoute, "__call__", spy)
        gate._seen.clear()
        direct = client.get(url, **kw)
        m.setattr(Edge, "_templated", lambda self, method, path, scope: None)
        gate._seen.clear()
        framework = client.get(url, **kw)
    assert taken == [url.split("?")[0]], "the direct handler was not taken (or taken twice)"
    return [direct, framework]


def _same(answers: list[httpx.Response]) -> httpx.Response:
    direct, framework = answers
    assert direct.status_code == framework.status_code
    assert direct.headers.multi_items() == framework.headers.multi_items()
    assert DRAWN.sub(b"", direct.content) == DRAWN.sub(b"", framework.content)
    return direct


def _trail(session: Session, after: int) -> list[tuple[Any, ...]]:
    session.expire_all()
    rows = session.scalars(select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq))
    return [
        (
            e.action,
            e.outcome,
            e.subject_type,
            e.subject_ids,
            re.sub(r'"inquiry_id": ?"\w+"', "", e.detail or ""),
        )
        for e in rows
    ]


def _last_seq(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


@pytest.mark.parametrize("check", ["return-flow", "misuse"])
@pytest.mark.parametrize("query", ["", "?policy=fifo", "?pool=balance&max_hops=2&window_days=10"])
def test_a_success_is_the_frameworks_answer_with_the_same_records(
    client: TestClient,
    session: Session,
    tokens: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    check: str,
    query: str,
) -> None:
    before = _last_seq(session)
    inquiries = session.scalar(select(func.count()).select_from(RiskInquiry))
    answer = _same(_both(client, monkeypatch, f"{API}/L1/{check}{query}", headers=tokens["hq"] | RID))
    assert answer.status_code == 200 and answer.json()["loan"]["loan_id"] == "L1"
    trail = _trail(session, before)
    assert len(trail) == 2 and trail[0] == trail[1]  # one audit entry each, the same
    assert trail[0][0] == f"risk.tracing.{check.replace('-', '_')}"
    session.expire_all()
    rows = session.scalars(select(RiskInquiry).order_by(RiskInquiry.at)).all()[int(inquiries or 0) :]
    assert [(r.kind, r.subject, r.verdict, r.risky_amount, r.detail) for r in rows[:1]] == [
        (r.kind, r.subject, r.verdict, r.risky_amount, r.detail) for r in rows[1:]
    ]
    assert audit.verify(session, principal("supervisor")).ok


@pytest.mark.parametrize(
    ("who", "url", "status", "code"),
    [
        (None, f"{API}/L1/return-flow", 401, "not_authenticated"),
        ("bad", f"{API}/L1/misuse", 401, "invalid_token"),
        ("regulator", f"{API}/L1/return-flow?max_hops=7", 403, "permission_denied"),  # 403 before 422
        ("other", f"{API}/L1/return-flow", 404, "loan_not_found"),  # another bank's loan
        ("hq", f"{API}/NOPE/misuse", 404, "loan_not_found"),
        ("hq", f"{API}/L1/return-flow?max_hops=7", 422, "invalid_input"),
        ("hq", f"{API}/L1/misuse?pool=nowhere&window_days=x", 422, "invalid_input"),
        ("hq", f"{API}/{'L' * 65}/return-flow?policy=nope", 422, "invalid_input"),  # path errors first
    ],
)
def test_every_refusal_is_the_frameworks_answer_and_audit(
    client: TestClient,
    session: Session,
    tokens: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    who: str | None,
    url: str,
    status: int,
    code: str,
) -> None:
    headers = {"Authorization": "Bearer not-a-token"} if who == "bad" else tokens.get(who or "", {})
    before = _last_seq(session)
    answer = _same(_both(client, monkeypatch, url, headers=headers | RID))
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    trail = _trail(session, before)
    assert len(trail) % 2 == 0 and trail[: len(trail) // 2] == trail[len(trail) // 2 :]
    audited = {401: "auth.credential.rejected", 403: "http.get", 404: "http.get"}.get(status)
    if audited is not None:  # refusals are audited, naming the route as the router does
        assert [t[0] for t in trail] == [audited] * 2
    assert audit.verify(session, principal("supervisor")).ok


@contextmanager
def _raising(error: Exception) -> Iterator[None]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    with pytest.MonkeyPatch.context() as m:
        m.setattr(service, "return_flow", fail)
        yield


def test_a_lost_database_is_the_frameworks_503(
    client: TestClient, tokens: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    lost = sa_exc.OperationalError(
        "SELECT 1", {}, psycopg.OperationalError("gone"), connection_invalidated=True
    )
    for error in (lost, DatabaseUnavailable(detail="down")):
        with _raising(error):
            answer = _same(_both(client, monkeypatch, f"{API}/L1/return-flow", headers=tokens["hq"] | RID))
        assert (answer.status_code, answer.headers["retry-after"]) == (503, "1")


def test_an_unexpected_error_is_the_edges_500_on_both(
    client: TestClient, tokens: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    not_lost = sa_exc.IntegrityError("INSERT", {}, Exception("clash"))  # the handler re-raises it: a 500
    for error in (not_lost, RuntimeError("bug")):
        with _raising(error):
            answer = _same(_both(client, monkeypatch, f"{API}/L1/return-flow", headers=tokens["hq"] | RID))
        assert answer.status_code == 500 and answer.json()["request_id"] == RID["X-Request-ID"]


def test_only_the_templates_paths_are_taken(client: TestClient, tokens: dict[str, dict[str, str]]) -> None:
    route = OneLoanRoute(f"{API}/", "misuse")
    assert route.matches(f"{API}/L1/misuse")
    for other in (
        f"{API}//misuse",
        f"{API}/a/b/misuse",
        f"{API}/L1/misuse/",
        f"{API}/L1/misuses",
        "/x/L1/misuse",
    ):
        assert not route.matches(other)
    # a POST and a trailing slash go to the framework as before (its redirect to the path without the slash)
    assert client.post(f"{API}/L1/misuse", headers=tokens["hq"], json={}).status_code == 200
    slash = client.get(f"{API}/L1/misuse/", headers=tokens["hq"], follow_redirects=False)
    assert (slash.status_code, slash.headers["location"]) == (307, f"http://testserver{API}/L1/misuse")
