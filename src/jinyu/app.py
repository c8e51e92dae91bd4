"""create_app(): middleware, error handlers, routers. The HTTP boundary owns each request's transaction."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import psycopg
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from jinyu import __version__
from jinyu.analytics import DuckDBEngine
from jinyu.analytics.flowindex import shared_indexes
from jinyu.audit import endpoints as audit_endpoints
from jinyu.audit import service as audit
from jinyu.audit.anchor import anchors_for
from jinyu.audit.rejections import Admitted, UnauthenticatedTrail
from jinyu.audit.sealer import Checkpointer, Sealer
from jinyu.banking import endpoints as banking_endpoints
from jinyu.chain import endpoints as chain_endpoints
from jinyu.chain.scheduler import NetworkScheduler
from jinyu.claim import endpoints as claim_endpoints
from jinyu.claim.fastroute import SettleRoute
from jinyu.config import Settings, get_settings
from jinyu.consent import endpoints as consent_endpoints
from jinyu.core import dbfaults
from jinyu.core.apidoc import document_errors
from jinyu.core.asgi import BodyTooLarge, Edge, EdgeMetrics
from jinyu.core.auth import Principal
from jinyu.core.db import transaction
from jinyu.core.errors import JinyuError, NotAuthenticated
from jinyu.core.filemodes import secure_data_dir
from jinyu.core.logging import configure as configure_logging
from jinyu.core.routes import route_template
from jinyu.core.runtime import sessionmaker_for
from jinyu.core.upkeep import StatisticsKeeper
from jinyu.credit import endpoints as credit_endpoints
from jinyu.financing import endpoints as financing_endpoints
from jinyu.govdata import endpoints as govdata_endpoints
from jinyu.governance import endpoints as governance_endpoints
from jinyu.governance.keys import endpoints as keys_endpoints
from jinyu.governance.policy import endpoints as policy_endpoints
from jinyu.ingest import endpoints as ingest_endpoints
from jinyu.ingest import service as ingest_service
from jinyu.jointmodel import endpoints as jointmodel_endpoints
from jinyu.party import endpoints as party_endpoints
from jinyu.party import service as party
from jinyu.party.errors import BadCredentials
from jinyu.risk import endpoints as risk_endpoints
from jinyu.risk.tracing.fastroute import LOANS, OneLoanRoute
from jinyu.risk.tracing.service import Stores, special_accounts
from jinyu.risk.tracing.service.context import shared_contexts
from jinyu.risk.tracing.service.prepare import after_loads
from jinyu.web import install as install_console
from jinyu.web import is_console_path, render_domain_error, render_error
from jinyu.web import warm as warm_console

log = logging.getLogger("jinyu.http")
API = "/api/v1"
PROBLEM = "application/problem+json"


def authenticate(settings: Settings) -> Any:
    def resolve(request: Request, session: Session) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        api_key = request.headers.get("x-api-key")
        if scheme.lower() == "bearer" and credential:
            return party.authenticate_token(session, credential.strip(), settings)
        if api_key or (scheme.lower() == "apikey" and credential):
            return party.authenticate_api_key(session, (api_key or credential).strip())
        raise NotAuthenticated(detail="请提供 Bearer 令牌或 X-API-Key / send a bearer token or an X-API-Key")

    return resolve


def authenticate_cached(request: Request) -> Principal | None:
    """The principal of a recently seen API key, without the database (None: ask `authenticate`)."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    api_key = request.headers.get("x-api-key") or (credential if scheme.lower() == "apikey" else "")
    if not api_key or (scheme.lower() == "bearer" and credential):
        return None
    api_key = api_key.strip()
    known = party.cached_api_key_principal(api_key)
    if known is not None and party.api_key_refresh_due(api_key):
        # re-checked off the request's path, before the entry runs out (the request goes on with it)
        asyncio.get_running_loop().run_in_executor(
            None, _refresh_api_key, request.app.state.sessionmaker, api_key
        )
    return known


def authenticate_unverified(settings: Settings) -> Any:
    def unverified(request: Request) -> Principal | None:
        """A bearer token's principal as this process resolved it before, not yet checked (`core.onetrip`)."""
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            return None
        return party.unchecked_token_principal(credential.strip(), settings)

    return unverified


def _refresh_api_key(factory: sessionmaker[Session], api_key: str) -> None:
    try:
        with transaction(factory) as session:  # it may record the key's last use
            party.refresh_api_key(session, api_key)
    except Exception:  # the entry expires as it would have; the next request after that checks it itself
        log.warning("API key refresh failed", exc_info=True)


# Sync handlers and their session dependency run on AnyIO's worker threads. A request's commit also needs a
# thread; if every thread were blocked on row locks (or on the connection pool) held by requests waiting to
# commit, nothing could move. Admission control (core.asgi.Edge) keeps at most JINYU_MAX_INFLIGHT API
# requests in the handlers; the threads stay above that plus the connection pool, so a commit always finds one.
WORKER_THREADS = 100


def _warm_tracing(engine: DuckDBEngine, settings: Settings) -> None:
    shared_indexes().warm(settings.lake_dir)
    shared_contexts().get(settings.lake_dir)
    try:
        special_accounts(Stores(engine, settings.lake_dir, settings.pseudonym_keys()))
    except Exception:  # a lake without accounts yet: the first check reads them (and says what is missing)
        log.warning("stop and prohibited accounts not read at start", exc_info=True)


def _prepare_tracing(settings: Settings, datasets: list[str], factory: sessionmaker[Session]) -> None:
    """After a load through the API (`ingest_endpoints.after_load`): a server that prepares tracing at start
    (`tracing_warm`: `jinyu serve`) also prepares the new data version's resident index and context, in its
    own thread, and keeps them beside the lake, as `jinyu ingest` does at its end; the first loan check after
    the upload then finds them built (here) or kept (other workers). And the chain page's answers of the last
    twelve months (`warm_console.after_pages`), as `jinyu ingest`'s `prepare_pages`. Returns at once."""
    if settings.tracing_warm:
        after_loads().submit(settings.lake_dir, datasets)
        warm_console.after_pages().submit(factory, settings.lake_dir, datasets)


ingest_endpoints.after_load.append(_prepare_tracing)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    settings: Settings = app.state.settings
    # Loads killed mid-way leave files no reader may see: settle them before anything reads the lake.
    await run_in_threadpool(ingest_service.recover_at_start, app.state.sessionmaker, settings.lake_dir)
    # What every process does once (the policy parsed, templates compiled...), before the first visitor waits
    await run_in_threadpool(warm_console.warm_process)
    await run_in_threadpool(app.state.analytics.open)  # DuckDB started and the lake's views made
    if settings.tracing_warm and (settings.lake_dir / "transfers").exists():
        # The resident transfer index and context: read back from what an earlier process kept beside the
        # lake (mapped, milliseconds; the context ~0.2-1 s), else built in the background while tracing
        # requests use the lake; and the stop and prohibited accounts every check classifies with.
        await run_in_threadpool(_warm_tracing, app.state.analytics, settings)
        # The chain page's answers a load kept beside the lake, held in memory (none computed here)
        await run_in_threadpool(warm_console.hold_chain_answers, app.state.sessionmaker, settings.lake_dir)
    sealer = Sealer.for_factory(app.state.sessionmaker) if settings.audit_journal else None
    checkpointer = Checkpointer.for_factory(
        app.state.sessionmaker,
        anchors_for(settings),
        every=settings.audit_checkpoint_every,
        seconds=settings.audit_checkpoint_seconds,
    )
    if sealer is not None:
        sealer.checkpointer = checkpointer
        sealer.start()
    if checkpointer is not None:
        checkpointer.start()
    app.state.audit_sealer, app.state.audit_checkpointer = sealer, checkpointer
    statistics = StatisticsKeeper.for_engine(
        app.state.sessionmaker.kw.get("bind"), interval=settings.db_statistics_seconds
    )
    if statistics is not None:  # prepared statements' plans follow the tables' growth (core.upkeep)
        statistics.start()
    app.state.table_statistics = statistics
    network_schedule = None
    if settings.chain_network_due_seconds > 0:  # the monthly chain network, built after loads
        network_schedule = NetworkScheduler(
            app.state.sessionmaker, settings.lake_dir, interval=settings.chain_network_due_seconds
        )
        network_schedule.start()
    app.state.chain_network_schedule = network_schedule
    try:
        yield
    finally:
        if network_schedule is not None:
            await run_in_threadpool(network_schedule.stop)
        if statistics is not None:
            await run_in_threadpool(statistics.stop)
        batcher = getattr(app.state, "settlement_batcher", None)
        if batcher is not None:  # settle what waits before the sealer seals the last entries
            await run_in_threadpool(batcher.stop)
        if sealer is not None:
            await run_in_threadpool(sealer.stop)
        if checkpointer is not None:  # after the sealer: the last checkpoint pins the last sealed entry
            await run_in_threadpool(checkpointer.stop)


# The cyclic garbage collector's full passes walk every object of the process — the framework and its models
# included — and stop every thread meanwhile: the tail of the settlement latency. Objects alive at start-up are
# moved out of its sight (gc.freeze) and young-generation passes run less often (requests make many
# short-lived objects, nearly all freed by reference counting).
GC_THRESHOLDS = (50_000, 20, 100)


def quiet_collector() -> None:
    """For server processes only (`serving_app`): frozen objects are never collected, which a test run that
    builds many apps must not have."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serving_app() -> FastAPI:
    """The app of a `jinyu serve` worker process: logging configured from the settings, then `create_app`."""
    settings = get_settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    quiet_collector()
    return app


def create_app(settings: Settings | None = None, factory: sessionmaker[Session] | None = None) -> FastAPI:
    settings = settings or get_settings()
    secure_data_dir(settings.data_dir, settings.resolved_database_url)  # 0700/0600 even with a given factory
    app = FastAPI(
        lifespan=_lifespan,
        title="Jinyu 金渝 API",
        version=__version__,
        description="金融数字化枢纽开放平台 / open platform of a regional financial regulator's digital-finance hub",
        openapi_url=f"{API}/openapi.json",
        docs_url=None,  # /docs and /redoc are the console's (jinyu.web.docs): served whole, no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.sessionmaker = factory or sessionmaker_for(settings)
    app.state.authenticate = authenticate(settings)
    app.state.authenticate_cached = authenticate_cached
    app.state.authenticate_unverified = authenticate_unverified(settings)
    # One DuckDB engine per process: thread-safe (a cursor per run), views over the lake made once.
    app.state.analytics = DuckDBEngine(settings.lake_dir)
    _install_edge(app, settings)
    app.state.unauthenticated = UnauthenticatedTrail(
        settings.audit_unauthenticated_seconds, app.state.metrics_registry
    )
    _install_error_handlers(app)
    _install_health(app)
    for module in (
        claim_endpoints,  # first: routes are matched in order, and instant settlement is the busiest
        party_endpoints,
        consent_endpoints,
        audit_endpoints,
        ingest_endpoints,
        govdata_endpoints,
        banking_endpoints,
        risk_endpoints,
        policy_endpoints,
        keys_endpoints,
        credit_endpoints,
        governance_endpoints,
        chain_endpoints,
        financing_endpoints,
        jointmodel_endpoints,
    ):
        app.include_router(module.router, prefix=API)
    install_console(app)
    _document_errors(app)
    return app


# Operations that need no credential (every other API operation answers 401 without one, 403 without its
# permission: tests/api/test_access_walk.py walks them all).
PUBLIC_OPERATIONS = {("post", f"{API}/auth/token")}


def _document_errors(app: FastAPI) -> None:
    """The OpenAPI document lists every operation's error answers (core.apidoc), made once on first use."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(plain(), PUBLIC_OPERATIONS, API)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# Requests that may run for seconds or minutes: admitted in a line of their own (see core.asgi.Edge).
HEAVY_ROUTES = (
    ("POST", f"{API}/ingest/"),
    ("POST", f"{API}/risk/batches"),
    ("GET", f"{API}/audit/verify"),
    ("POST", f"{API}/claims/reconciliations"),
)
# Requests whose handler waits for a batching thread, not a worker thread (see core.asgi.Edge): exact paths.
SETTLE = ("POST", f"{API}{claim_endpoints.PATH}")
BATCHED_ROUTES = (SETTLE,)
# One-loan checks by GET, served without the framework's routing and dependency solving (path templates: see
# core.asgi.Edge and risk.tracing.fastroute); the FastAPI routes stay for the API description and the POSTs.
ONE_LOAN_PREFIX = f"{API}{LOANS}"
ONE_LOAN_CHECKS = ("return-flow", "misuse")


# Routes whose bodies may be larger than JINYU_MAX_BODY_BYTES: (method, path prefix) and the setting naming
# their limit (see core.asgi.Edge: refused with 413 by Content-Length, or as the body streams in).
def body_limits(settings: Settings) -> tuple[tuple[str, str, int], ...]:
    return (
        ("POST", f"{API}/ingest/", settings.max_ingest_upload_bytes),
        ("POST", f"{API}/risk/statements/verify", settings.max_statement_upload_bytes),
        ("POST", "/console/statements", settings.max_statement_upload_bytes),  # the console's upload of one
    )


def _install_edge(app: FastAPI, settings: Settings) -> None:
    metrics = EdgeMetrics()
    app.state.metrics_registry = metrics.registry
    app.add_middleware(
        Edge,
        metrics=metrics,
        max_inflight=settings.max_inflight,
        max_queued=settings.max_queued,
        max_heavy=settings.max_heavy,
        heavy=HEAVY_ROUTES,
        max_batched=settings.max_batched,
        batched=BATCHED_ROUTES,
        direct={SETTLE: SettleRoute(SETTLE[1])},  # the busiest route, without the framework's routing
        # made per app: each handler keeps its app's route object
        direct_templates=tuple(
            ("GET", ONE_LOAN_PREFIX, OneLoanRoute(ONE_LOAN_PREFIX, check)) for check in ONE_LOAN_CHECKS
        ),
        body_limit=settings.max_body_bytes,
        body_limits=body_limits(settings),
    )


def _problem(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(JinyuError)
    async def domain_error(request: Request, exc: JinyuError) -> Response:
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is not None and exc.status in (403, 404):
            # The request's own transaction is already rolled back here; write the refusal in a new one,
            # off the event loop.
            await run_in_threadpool(_audit_refusal, request, principal, exc)
        if exc.status == 401:
            await _note_unauthenticated(request, exc)
        if is_console_path(request.url.path):
            return render_domain_error(request, exc)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        return _problem(exc.status, exc.problem(request.url.path), headers | exc.headers())

    @app.exception_handler(sa_exc.DBAPIError)
    @app.exception_handler(psycopg.OperationalError)
    async def database_error(request: Request, exc: Exception) -> Response:
        """A lost database connection, on any route: 503 `database_unavailable` with Retry-After. Any other
        database error is not an answer of the API: it goes on to the server-error handling (500)."""
        lost = dbfaults.unavailable(exc)
        if lost is None:
            raise exc
        log.warning("database connection lost", exc_info=exc)
        return await domain_error(request, lost)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]}
            for e in exc.errors()
        ]
        if is_console_path(request.url.path):
            return render_error(request, 422, "; ".join(f"{e['field']}: {e['message']}" for e in errors))
        body = {
            "type": "urn:jinyu:problem:invalid_input",
            "title": "输入无效 / Invalid input",
            "status": 422,
            "detail": "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            "code": "invalid_input",
            "instance": request.url.path,
            "errors": errors,
        }
        return _problem(422, body)

    @app.exception_handler(BodyTooLarge)
    async def body_too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        # the rest of the body is never read: the connection closes after the answer
        return _problem(413, exc.error.problem(request.url.path), {"Connection": "close"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # the framework's own refusals: an unparsable body (400), no such route (404), method (405)
        code, title = FRAMEWORK_PROBLEMS.get(exc.status_code, ("http_error", str(exc.detail)))
        if is_console_path(request.url.path):
            return render_error(request, exc.status_code, title)
        body = {
            "type": f"urn:jinyu:problem:{code}",
            "title": title,
            "status": exc.status_code,
            "detail": str(exc.detail),
            "code": code,
            "instance": request.url.path,
        }
        return _problem(exc.status_code, body, dict(exc.headers) if exc.headers else None)


FRAMEWORK_PROBLEMS = {
    400: ("malformed_body", "请求体无法解析 / Malformed request body"),
    404: ("not_found", "未找到 / Not found"),
    405: ("method_not_allowed", "不支持该方法 / Method not allowed"),
}


def _audit_refusal(request: Request, principal: Principal, exc: JinyuError) -> None:
    """Refused and not-found accesses are audited in their own transaction (the request's is rolled back)."""
    outcome = "denied" if exc.status == 403 else "not_found"
    route = route_template(request) or request.url.path
    audit.record_outcome(
        request.app.state.sessionmaker,
        principal,
        action=f"http.{request.method.lower()}",
        subject_type="route",
        subject_ids=[request.url.path],
        outcome=outcome,
        detail={"route": route, "code": exc.code},
    )


async def _note_unauthenticated(request: Request, exc: JinyuError) -> None:
    """Every 401 is counted; audited at most once per client address per interval (see audit.rejections).
    A failed login is left to the login, which audits it itself (`auth.login`, failed)."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if isinstance(exc, BadCredentials):
        reason = "bad_password"
    elif scheme.lower() == "bearer" and credential:
        reason = "bad_token"
    elif request.headers.get("x-api-key") or (scheme.lower() == "apikey" and credential):
        reason = "bad_api_key"
    else:
        reason = "no_credential"
    address = request.client.host if request.client else "unknown"
    trail: UnauthenticatedTrail = request.app.state.unauthenticated
    admitted = trail.note(reason, address, audit=reason != "bad_password")
    if admitted is not None:
        await run_in_threadpool(_record_unauthenticated, request, trail, admitted, reason, exc.code, address)


def _record_unauthenticated(
    request: Request, trail: UnauthenticatedTrail, admitted: Admitted, reason: str, code: str, address: str
) -> None:
    # The route's template, never the path as sent: its parameters are the caller's to choose.
    fields = {"reason": reason, "code": code, "method": request.method, "address": address}
    trail.record(
        request.app.state.sessionmaker, admitted, route=route_template(request) or "unmatched", **fields
    )


def _install_health(app: FastAPI) -> None:
    @app.get("/healthz", tags=["ops 运维"])
    def healthz() -> dict[str, str]:
        """进程存活 / the process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops 运维"], responses={503: {"description": "未就绪 / not ready"}})
    def readyz(request: Request) -> JSONResponse:
        """数据库与数据湖可用 / the operational store answers and the lake directory exists."""
        checks: dict[str, str] = {}
        try:
            with request.app.state.sessionmaker() as s:
                s.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # readiness reports any failure instead of raising
            checks["database"] = f"error: {type(exc).__name__}"
        checks["lake"] = "ok" if request.app.state.settings.lake_dir.exists() else "missing"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
        )

    @app.get("/metrics", tags=["ops 运维"])
    def metrics(request: Request) -> Response:
        return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
