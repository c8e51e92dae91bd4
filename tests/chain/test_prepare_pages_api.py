"""A load through the API (`POST /ingest/{dataset}`) on a server that prepares (`tracing_warm`, as `jinyu serve`
runs) ends as `jinyu ingest` does for the chain page too: after the answer, the page's answers of the last
twelve months are computed and kept beside the lake (`web.warm.after_pages`), so a new process's first visitor
runs no statement for them; a load the page does not read, or a server that does not prepare, computes none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jinyu.analytics import DuckDBEngine, Lake, shared_results
from jinyu.analytics.results import store_dir
from jinyu.app import create_app
from jinyu.chain import reads, resident, service
from jinyu.config import load_settings
from jinyu.core.auth import OrgKind, Role
from jinyu.web.warm import after_pages
from tests.chain.lake import rows, write
from tests.chain.test_stored_network import Counting
from tests.fixtures.auth import login, make_org, make_user

NEW_BANK = (
    b"org_code,name,level,parent_code,district_code,uscc\nB9,\xe4\xb9\x9d\xe8\xa1\x8c,head_office,,500101,\n"
)
WINDOW = {"chain_code": "new_display", "from_month": "2023-10", "to_month": "2024-03"}


def _serve(tmp_path: Path, factory: sessionmaker[Session], warm: bool) -> Iterator[TestClient]:
    """Started on an empty lake (nothing held at start), then the chain region written as loads write it."""
    settings = load_settings(data_dir=tmp_path / "data", tracing_warm=warm, chain_network_due_seconds=0)
    with TestClient(create_app(settings, factory=factory)) as client:
        root = settings.lake_dir
        write(Lake(root), rows())
        shared_results(root).clear()
        resident.clear()
        yield client
    after_pages().wait(120)
    shared_results(settings.lake_dir).clear()


@pytest.fixture
def warm(tmp_path: Path, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    yield from _serve(tmp_path, session_factory, True)


@pytest.fixture
def cold(tmp_path: Path, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    yield from _serve(tmp_path, session_factory, False)


def _upload(client: TestClient, session: Session, name: str, body: bytes) -> None:
    after_pages().last = None
    engineer = make_user(session, make_org(session, OrgKind.OPERATOR), Role.DATA_PROVIDER)
    session.commit()
    resp = client.post(
        f"/api/v1/ingest/{name}",
        files={"file": (f"{name}.csv", body, "text/csv")},
        headers=login(client, engineer.username),
    )
    assert resp.status_code == 201, resp.text


def _kept_files(root: Path) -> list[Path]:
    return [p for p in store_dir(root).rglob("*") if p.is_file()] if store_dir(root).exists() else []


def test_an_api_load_keeps_the_chain_pages_answers_for_the_next_process(
    warm: TestClient, session: Session, session_factory: sessionmaker[Session]
) -> None:
    root = warm.app.state.settings.lake_dir  # type: ignore[attr-defined]
    assert _kept_files(root) == []
    _upload(warm, session, "banks", NEW_BANK)
    assert after_pages().wait(120)
    assert after_pages().last is not None and after_pages().last[-1] == "2024-03"  # twelve months to the last
    assert _kept_files(root), "nothing kept beside the lake"
    shared_results(root).clear(keep_store=True)  # a new process: nothing in memory, the files beside the lake
    resident.clear()
    engine = DuckDBEngine(root)
    try:
        counting = Counting(engine)
        page = reads.for_page(counting, "new_display", "2024-03", None, shared_results(root))  # type: ignore[arg-type]
        with session_factory() as s:
            overrides = service.segment_overrides(s, "new_display")
        flows = {**WINDOW, "segment_overrides": overrides}
        assert page.run(reads.LINKS, **WINDOW).to_pylist() == engine.run(reads.LINKS, **WINDOW).to_pylist()
        assert page.run(reads.FLOWS, **flows).to_pylist() == engine.run(reads.FLOWS, **flows).to_pylist()
        assert counting.runs == []  # read from what the API load kept, nothing computed here
    finally:
        engine.close()


def test_a_server_that_does_not_prepare_keeps_nothing(cold: TestClient, session: Session) -> None:
    root = cold.app.state.settings.lake_dir  # type: ignore[attr-defined]
    _upload(cold, session, "banks", NEW_BANK)
    assert after_pages().wait(120) and after_pages().last is None
    assert _kept_files(root) == []
