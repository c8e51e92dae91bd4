"""Short requests as one worker-thread trip: the caller's credential check, the handler's work and the commit.

A sync handler with `require(...)` takes three trips to a worker thread: authentication (it reads the
database), the handler, and `db_session`'s commit. For a request of a few milliseconds (a one-loan return-flow
check) each trip is a wait for a thread to be scheduled and for the event loop to be woken again, the longer
the busier the machine. Here:

- `require_in_trip(perm)` (the declared permission, as `require`) decides on the event loop what it can without
  the database: a bearer token this process has resolved before gives its principal as it was then
  (`app.state.authenticate_unverified`), and the permission is checked on it. Anything else — no credentials,
  an API key, a token not seen here, a principal lacking the permission — is decided in full as by `require`
  (so 401 and 403 still come before a 422 of the parameters, and refusals are audited for a checked principal).
- `in_one_trip(session, caller, work)` runs, in one worker thread: the check of the caller against the database
  (for a token seen before, the same read of its user's row as every request makes: a revoked token is refused
  here, before any work), then `work(principal)`, then the commit — before the answer is sent, so a 2xx still
  means committed; a failed commit raises and `db_session` rolls back, as for any error.

A handler using it receives a `Caller`, not a `Principal`: the principal reaches its work only through
`in_one_trip`, after the check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep, current_principal

T = TypeVar("T")


@dataclass(frozen=True)
class Caller:
    """Who is asking, for `in_one_trip`: checked already (`checked`), or to be checked first thing in the trip."""

    request: Request
    perm: Perm
    principal: Principal
    checked: bool

    def check(self, session: Session) -> Principal:
        """The principal, checked against the database now unless it was already (InvalidToken when revoked)."""
        if self.checked:
            return self.principal
        principal: Principal = self.request.app.state.authenticate(self.request, session)
        self.request.state.principal = principal  # refusals from here on are audited for it
        principal.require(
            self.perm
        )  # the user's row may have said something else now (it was resolved again)
        return principal


def require_in_trip(perm: Perm) -> Any:
    """Dependency declaring an endpoint's permission, for handlers that run as `in_one_trip`."""

    async def checker(request: Request, session: SessionDep) -> Caller:
        unverified = getattr(request.app.state, "authenticate_unverified", None)
        candidate: Principal | None = unverified(request) if unverified is not None else None
        if candidate is not None and candidate.has(perm):
            return Caller(request, perm, candidate, checked=False)
        principal = await current_principal(request, session)  # as `require` does
        principal.require(perm)
        return Caller(request, perm, principal, checked=True)

    checker.__name__ = f"require_{perm.name.lower()}"
    return Depends(checker)


async def in_one_trip(session: Session, caller: Caller, work: Callable[[Principal], T]) -> T:
    """The caller's check, `work(principal)` and the commit of the request's session, in one worker thread."""
    return await run_in_threadpool(_trip, session, caller, work)


def _trip(session: Session, caller: Caller, work: Callable[[Principal], T]) -> T:
    principal = caller.check(session)
    if not caller.checked and session.get_bind().dialect.name == "sqlite":
        # SQLite transactions begin IMMEDIATE (core.db): the check's read took the database's write lock. End
        # it here (nothing written, so no sync to disk) rather than hold it through the work: other requests'
        # writes would queue behind a trace that reads no SQLite at all.
        session.commit()
    result = work(principal)
    session.commit()
    return result
