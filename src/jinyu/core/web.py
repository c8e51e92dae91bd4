"""HTTP kit shared by every domain's endpoints: the session and the authenticated, authorised principal.

The app installs two callables on `app.state` at start-up so core stays domain-free:
- `app.state.sessionmaker`: the operational store's session factory;
- `app.state.authenticate(request, session) -> Principal`: resolves a bearer token or API key;
- `app.state.authenticate_cached(request) -> Principal | None` (optional): the principal when it is known
  without the database (a recently seen API key), so that most requests need no worker thread for it;
- `app.state.authenticate_unverified(request) -> Principal | None` (optional): a bearer token's principal as
  this process last resolved it, *not yet checked* against the database (see `core.onetrip`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from jinyu.core.auth import Perm, Principal


async def db_session(request: Request) -> AsyncIterator[Session]:
    """One session per request: commit when the handler returns, roll back when it raises.

    Declared with `scope="function"` (see `SessionDep`): the clean-up runs when the handler has returned and
    before the answer is sent, so a 2xx means committed and a failed commit is answered as the error it is. With
    the framework's default scope the commit ran after the answer had left: a client could be told 201 and then
    not find the object on its next request, and a commit that failed then would lose the write silently.

    Async on purpose: making the session does no I/O (it connects on first use, in the handler's worker
    thread), so only the commit or rollback needs a trip to a worker thread — one thread hop per request
    fewer than a sync dependency, which enters and exits on threads."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        if session.in_transaction():
            await run_in_threadpool(_commit_and_close, session)
        else:  # never used, or the handler committed: nothing left that needs the database
            session.close()
    except BaseException:
        await run_in_threadpool(_rollback_and_close, session)
        raise


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(db_session, scope="function")]


async def current_principal(request: Request, session: SessionDep) -> Principal:
    """Async: a known API key resolves on the event loop; anything else goes to a worker thread."""
    principal = _known(request)
    if principal is None:
        resolved: Principal = await run_in_threadpool(request.app.state.authenticate, request, session)
        principal = resolved
    request.state.principal = principal
    return principal


def require(perm: Perm) -> Any:
    """Dependency declaring an endpoint's permission: 401 without credentials, 403 without the permission."""

    # Async: checking the permission needs no I/O, so it runs on the event loop instead of a worker thread.
    async def checker(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        principal.require(perm)
        return principal

    checker.__name__ = f"require_{perm.name.lower()}"
    return Depends(checker)


def require_sessionless(perm: Perm) -> Any:
    """`require` for handlers that use no request session (they hand their work to a thread of their own):
    a known API key resolves on the event loop; otherwise authentication gets a session of its own, committed
    at once (it may record the key's last use)."""

    async def checker(request: Request) -> Principal:
        principal = await principal_without_session(request)
        principal.require(perm)
        return principal

    checker.__name__ = f"require_{perm.name.lower()}"
    return Depends(checker)


async def principal_without_session(request: Request) -> Principal:
    """The caller, set on `request.state`: a known API key on the event loop, else authenticated in a worker
    thread with a session of its own, committed at once (it may record the key's last use)."""
    principal = _known(request)
    if principal is None:
        resolved: Principal = await run_in_threadpool(_authenticate_alone, request)
        principal = resolved
    request.state.principal = principal
    return principal


def _known(request: Request) -> Principal | None:
    """The principal the app knows without the database (a recently seen API key), if any."""
    cached = getattr(request.app.state, "authenticate_cached", None)
    known: Principal | None = cached(request) if cached is not None else None
    return known


def _authenticate_alone(request: Request) -> Principal:
    session: Session = request.app.state.sessionmaker()
    try:
        principal: Principal = request.app.state.authenticate(request, session)
        session.commit()
        return principal
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def declared_permission(dependency: Callable[..., Any]) -> str | None:
    name = getattr(dependency, "__name__", "")
    return name.removeprefix("require_") if name.startswith("require_") else None
