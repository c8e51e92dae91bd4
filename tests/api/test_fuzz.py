"""API fuzzer: schemathesis generates requests from the app's own OpenAPI document — valid ones and invalid ones —
for every operation, and each request is sent as a regulator's, a bank's and a hospital's service account; every
answer must be below 500 and among the status codes the document declares for that operation.

Bounded: JINYU_FUZZ_EXAMPLES examples per operation and generation mode (default FUZZ_EXAMPLES), derandomized
(the same requests every run), in-process against the ASGI app on SQLite; the operations under /api/ (not the
health probes: /readyz answers a documented 503 while the test's lake is empty); the operations are split in SHARDS
tests so that `pytest -n 2` runs them side by side.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis import GenerationMode
from schemathesis.python import asgi
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jinyu.app import create_app
from jinyu.config import Settings
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.party import service as party
from jinyu.party.schemas import ServiceAccountCreate
from tests.fixtures.auth import make_org

FUZZ_EXAMPLES = 6
EXAMPLES = int(os.environ.get("JINYU_FUZZ_EXAMPLES", FUZZ_EXAMPLES))
SHARDS = 2
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)

# The three callers the issue names: a regulator, a bank, a hospital system (each its organisation's API key).
CALLERS = {
    "regulator": (OrgKind.REGULATOR, Role.REGULATOR_SUPERVISOR),
    "bank": (OrgKind.BANK_HEAD_OFFICE, Role.BANK_HQ_RISK),
    "hospital": (OrgKind.HOSPITAL, Role.HOSPITAL_SYSTEM),
}


@pytest.fixture
def db_engine(sqlite_engine: Engine) -> Engine:
    """SQLite only: the fuzzer checks the HTTP contract, which does not depend on the store."""
    return sqlite_engine


def _api_key(session: Session, kind: OrgKind, role: Role) -> str:
    org = make_org(session, kind)
    created = party.create_service_account(
        session, SYSTEM, ServiceAccountCreate(name=f"fuzz {role.value}", org_id=org.id, roles=[role])
    )
    session.commit()
    assert created.api_key is not None
    return created.api_key


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[Any]:
    application = create_app(settings, factory=session_factory)
    yield application
    batcher = getattr(application.state, "settlement_batcher", None)
    if batcher is not None:
        batcher.stop()


def _declared(operation: Any) -> set[str]:
    return {str(code) for code in operation.definition.raw.get("responses", {})}


def _strategy(operation: Any, mode: GenerationMode) -> Any:
    """Cases of one operation. Negative cases keep their path parameters valid: wrong ones only make odd URLs
    (answered 404 like any unknown id), and generating them took most of a run's time."""
    if mode is GenerationMode.POSITIVE:
        return operation.as_strategy(generation_mode=mode)
    fixed = {p.name: "fuzz" for p in operation.path_parameters}
    return operation.as_strategy(generation_mode=mode, path_parameters=fixed)


def _fuzz(operation: Any, client: Any, callers: dict[str, dict[str, str]], failures: list[str]) -> None:
    for mode in MODES:
        try:
            _fuzz_mode(operation, mode, client, callers, failures)
        except hypothesis.errors.Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to get wrong: no parameters, no body


def _fuzz_mode(
    operation: Any,
    mode: GenerationMode,
    client: Any,
    callers: dict[str, dict[str, str]],
    failures: list[str],
) -> None:
    declared = _declared(operation)

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @given(case=_strategy(operation, mode))
    def run(case: Any) -> None:
        for caller, headers in callers.items():
            response = case.call(session=client, headers=headers)
            status = response.status_code
            if status >= 500 or str(status) not in declared:
                failures.append(
                    f"{operation.method.upper()} {operation.path} as {caller} ({mode.value}) → {status}: "
                    f"{response.text[:300]} [request: {case.path_parameters} {case.query} "
                    f"{str(case.body)[:200]}]"
                )

    run()


@pytest.mark.parametrize("shard", range(SHARDS))
def test_fuzz_finds_no_server_error_and_no_undeclared_status(shard: int, app: Any, session: Session) -> None:
    callers = {name: {"X-API-Key": _api_key(session, *CALLERS[name])} for name in CALLERS}
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = sorted(
        (op for op in (r.ok() for r in schema.get_all_operations()) if op.path.startswith("/api/")),
        key=lambda o: (o.path, o.method),
    )
    assert len(operations) > 50  # the whole API, not an empty document
    failures: list[str] = []
    with asgi.get_client(app) as client:
        for operation in operations[shard::SHARDS]:
            _fuzz(operation, client, callers, failures)
    unique = sorted(set(failures))
    assert not unique, f"{len(unique)} bad answers:\n" + "\n".join(unique[:60])
