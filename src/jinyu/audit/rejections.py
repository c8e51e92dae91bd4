"""Unauthenticated requests (HTTP 401: a forged or expired token, a bad API key, no credential at all).

Each one is counted in `/metrics` (`jinyu_http_unauthenticated_total{reason}`, a fixed set of reasons) and
audited as `auth.credential.rejected` — but at most once per client address per `interval` seconds, and at most
`cap` entries per interval in all, so that a flood (or a spray from many addresses) cannot fill the trail. The
next entry written for an address carries how many of its refusals were left out (`suppressed`), and
`suppressed_elsewhere` counts those left out by the global cap or by addresses forgotten since: every refusal
is accounted for in some entry.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.orm import Session, sessionmaker

from jinyu.audit import service
from jinyu.audit.rules import Outcome
from jinyu.core.auth import OrgKind, Principal

log = logging.getLogger(__name__)

ACTION = "auth.credential.rejected"
REASONS = ("bad_token", "bad_api_key", "no_credential", "bad_password", "other")
DEFAULT_CAP = 100
DEFAULT_MAX_ADDRESSES = 10_000

ANONYMOUS = Principal(
    subject_id="anonymous",
    username="anonymous",
    org_id="-",
    org_kind=OrgKind.OPERATOR,
    tenant_id="-",
    org_path="/-/",
    roles=frozenset(),
)


@dataclass(frozen=True)
class Admitted:
    """Write an entry: with the refusals of this address, and of others, left out since the last one."""

    suppressed: int
    suppressed_elsewhere: int


@dataclass
class _Seen:
    at: float
    suppressed: int = 0


class RejectionGate:
    """Decides which refusals are written; thread-safe, memory bounded by `max_addresses`."""

    def __init__(
        self,
        interval: float,
        *,
        cap: int = DEFAULT_CAP,
        max_addresses: int = DEFAULT_MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval, self.cap, self.max_addresses, self.clock = interval, cap, max_addresses, clock
        self._lock = threading.Lock()
        self._seen: dict[str, _Seen] = {}
        self._window_start = clock()
        self._window_admitted = 0
        self._elsewhere = 0

    def admit(self, address: str) -> Admitted | None:
        """An entry to write for this refusal, or None: left out (and counted)."""
        now = self.clock()
        with self._lock:
            if now - self._window_start >= self.interval:
                self._new_window(now)
            seen = self._seen.get(address)
            if seen is not None and now - seen.at < self.interval:
                seen.suppressed += 1
                return None
            if self._window_admitted >= self.cap or (seen is None and len(self._seen) >= self.max_addresses):
                if seen is not None:
                    seen.suppressed += 1
                else:
                    self._elsewhere += 1
                return None
            admitted = Admitted(seen.suppressed if seen else 0, self._elsewhere)
            self._seen[address] = _Seen(now)
            self._window_admitted += 1
            self._elsewhere = 0
            return admitted

    def _new_window(self, now: float) -> None:
        self._window_start, self._window_admitted = now, 0
        expired = [a for a, seen in self._seen.items() if now - seen.at >= self.interval]
        for address in expired:  # quiet addresses are forgotten; those with refusals left out wait to report
            if not self._seen[address].suppressed:
                del self._seen[address]
        if len(self._seen) >= self.max_addresses:  # still full: they report in the next entry written
            for address in expired:
                seen = self._seen.pop(address, None)
                if seen is not None:
                    self._elsewhere += seen.suppressed


class UnauthenticatedTrail:
    """The metrics counter and the audit of 401 answers, one per app."""

    def __init__(
        self,
        interval: float,
        registry: CollectorRegistry,
        *,
        cap: int = DEFAULT_CAP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gate = RejectionGate(interval, cap=cap, clock=clock)
        self.counter = Counter(
            "jinyu_http_unauthenticated_total",
            "API requests answered 401, by reason",
            ["reason"],
            registry=registry,
        )
        for reason in REASONS:  # every series exists from the start (0), and no other can appear
            self.counter.labels(reason)

    def note(self, reason: str, address: str, *, audit: bool = True) -> Admitted | None:
        """Count the refusal; the entry to write, if this one is to be audited."""
        self.counter.labels(reason if reason in REASONS else "other").inc()
        return self.gate.admit(address) if audit else None

    def record(
        self,
        factory: sessionmaker[Session],
        admitted: Admitted,
        *,
        reason: str,
        code: str,
        method: str,
        route: str,
        address: str,
    ) -> None:
        """Write the entry in a transaction of its own; a failure is logged, never turned into another answer."""
        try:
            service.record_outcome(
                factory,
                ANONYMOUS,
                action=ACTION,
                subject_type="route",
                subject_ids=[route[:256]],
                outcome=Outcome.DENIED,
                detail={
                    "reason": reason if reason in REASONS else "other",
                    "code": code[:64],
                    "method": method[:16],
                    "client": address[:64],
                    "suppressed": admitted.suppressed,
                    "suppressed_elsewhere": admitted.suppressed_elsewhere,
                },
            )
        except Exception:
            log.warning("audit of a 401 answer failed", exc_info=True)
