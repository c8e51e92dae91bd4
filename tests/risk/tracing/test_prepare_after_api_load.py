"""A load through the API (`POST /ingest/{dataset}`) on a server that prepares tracing (`tracing_warm`, as
`jinyu serve` runs) ends as `jinyu ingest` does: after the commit, off the answer, the new data version's
resident index and context are built by the serving process's own holders and kept beside the lake; a failing
preparation leaves the load standing; a server without `tracing_warm` builds on demand, as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jinyu.analytics import Lake, flowfiles, flowindex
from jinyu.analytics.flowindex import FlowIndexes, shared_indexes
from jinyu.app import create_app
from jinyu.config import Settings, load_settings
from jinyu.core.auth import OrgKind, Role
from jinyu.risk.tracing import service
from jinyu.risk.tracing.service import kept
from jinyu.risk.tracing.service.context import ResidentContexts, shared_contexts
from jinyu.risk.tracing.service.prepare import after_loads
from tests.fixtures.auth import login, make_org, make_user

from .lake import golden_rows, write

NEW_BANK = (
    b"org_code,name,level,parent_code,district_code,uscc\nB9,\xe4\xb9\x9d\xe8\xa1\x8c,head_office,,500101,\n"
)


def _version(root: Path) -> str:
    return service.data_version(root, service.base.LISTED).fingerprint


def _serve(tmp_path: Path, session_factory: sessionmaker[Session], *, warm: bool) -> Iterator[TestClient]:
    """The app started on an empty lake (nothing to warm at start), then the golden region written to the
    lake as loads write it: nothing of it is built or kept until the upload."""
    settings: Settings = load_settings(data_dir=tmp_path / "data", tracing_warm=warm)
    app = create_app(settings, factory=session_factory)
    with TestClient(app, raise_server_exceptions=True) as client:
        write(Lake(settings.lake_dir), golden_rows())
        yield client
    after_loads().wait(120)


@pytest.fixture
def warm(tmp_path: Path, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    yield from _serve(tmp_path, session_factory, warm=True)


@pytest.fixture
def cold(tmp_path: Path, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    yield from _serve(tmp_path, session_factory, warm=False)


def _upload_bank(client: TestClient, session: Session) -> dict[str, object]:
    after_loads().last = None
    operator = make_org(session, OrgKind.OPERATOR)
    engineer = make_user(session, operator, Role.DATA_PROVIDER)
    session.commit()
    files = {"file": ("banks.csv", NEW_BANK, "text/csv")}
    resp = client.post("/api/v1/ingest/banks", files=files, headers=login(client, engineer.username))
    assert resp.status_code == 201, resp.text
    body: dict[str, object] = resp.json()
    assert body["accepted"] == 1
    return body


def test_an_api_load_keeps_both_for_the_new_version_and_serves_them(
    warm: TestClient, session: Session
) -> None:
    lake = warm.app.state.settings.lake_dir  # type: ignore[attr-defined]
    before = _version(lake)
    assert not flowindex.is_kept(lake) and not kept.is_kept(lake, before)
    _upload_bank(warm, session)
    assert after_loads().wait(120)
    after = _version(lake)
    assert after != before  # the load changed what tracing reads
    last = after_loads().last
    assert last is not None and (last.index, last.context) == ("built", "built")
    assert flowindex.is_kept(lake) and kept.is_kept(lake, after)
    # This process serves them now (its own holders built them) ...
    context = shared_contexts().get(lake)
    assert context is not None and "B9" in context.t.banks  # the context of the new version
    assert shared_indexes().get(lake) is not None
    # ... and another worker (new holders) maps and reads them back without building.
    flows, contexts = FlowIndexes(), ResidentContexts()
    index, other = flows.get(lake), contexts.get(lake)
    assert index is not None and isinstance(index.out_ts, np.memmap)
    assert other is not None and "B9" in other.t.banks
    assert flows._thread is None and contexts._thread is None
    fresh = flowindex.build(lake)
    assert np.array_equal(index.out_ts, fresh.out_ts) and np.array_equal(index.accounts, fresh.accounts)


def test_a_failing_preparation_leaves_the_api_load_standing(
    warm: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(flowindex, "build", broken)
    lake = warm.app.state.settings.lake_dir  # type: ignore[attr-defined]
    before = _version(lake)
    body = _upload_bank(warm, session)
    assert after_loads().wait(120)
    assert _version(lake) != before  # the load stands
    last = after_loads().last
    assert last is not None and last.index == "failed" and last.context == "built"
    assert not flowindex.is_kept(lake)
    assert kept.is_kept(lake, _version(lake))  # the context does not depend on the index
    assert str(body["dataset"]) == "banks" and not body["already_loaded"]


def test_without_tracing_warm_an_api_load_leaves_them_to_the_first_check(
    cold: TestClient, session: Session
) -> None:
    lake = cold.app.state.settings.lake_dir  # type: ignore[attr-defined]
    _upload_bank(cold, session)
    assert after_loads().wait(120)
    assert not flowfiles.files_dir(lake).exists()
    assert not flowfiles.files_dir(lake, kept.KIND).exists()
