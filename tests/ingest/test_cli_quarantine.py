"""`jinyu ingest-quarantine`: the provider's engineer opens its rejected rows; anyone else is refused, audited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from jinyu.analytics import Lake
from jinyu.audit.models import AuditEntry
from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.core import runtime
from jinyu.core.auth import OrgKind, Role
from jinyu.ingest import service
from jinyu.models import metadata
from jinyu.party import service as party
from tests.fixtures.auth import PASSWORD, make_org, make_user, resident_id
from tests.ingest.loading import load

from .test_service import enterprise, write_csv

runner = CliRunner()


@pytest.fixture
def load_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JINYU_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    get_settings.cache_clear()
    settings = get_settings()
    metadata.create_all(runtime.engine_for(settings.resolved_database_url))
    stores = service.Stores(
        lake=Lake(settings.lake_dir),
        quarantine_dir=settings.data_dir / "quarantine",
        pseudonym_key=settings.key("pseudonym_key"),
        quarantine_key=settings.key("quarantine_key"),
    )
    with runtime.unit_of_work(settings) as s:
        bureau = make_org(s, OrgKind.BUREAU)
        make_user(s, bureau, Role.DATA_PROVIDER, username="bureau_engineer")
        make_user(s, make_org(s, OrgKind.BUREAU), Role.DATA_PROVIDER, username="other_engineer")
        provider = party.principal_for_username(s, "bureau_engineer")
        bad = enterprise("91500000MA00000000", resident_id(seq=9), phone="13700001111")
        path = write_csv(tmp_path / "e.csv", "enterprises", [bad])
        report = load(s, provider, "enterprises", path, stores)
    yield report.id
    get_settings.cache_clear()


def test_the_providers_engineer_opens_the_rows(load_id: str) -> None:
    args = ["ingest-quarantine", load_id, "--as-user", "bureau_engineer", "--password-stdin", "--json"]
    result = runner.invoke(app, args, input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)["rows"]
    assert row["values"]["phone"] == "13700001111" and row["reasons"] == ["bad_check:uscc"]


def test_another_organisation_is_refused_and_audited(load_id: str) -> None:
    args = ["ingest-quarantine", load_id, "--as-user", "other_engineer", "--password-stdin"]
    result = runner.invoke(app, args, input=f"{PASSWORD}\n")
    assert result.exit_code == 1 and "13700001111" not in result.output
    with runtime.sessionmaker_for(get_settings())() as s:
        refused = s.scalars(select(AuditEntry).where(AuditEntry.action == "ingest.quarantine.open")).all()
        assert [(e.actor_name, e.outcome) for e in refused] == [("other_engineer", "not_found")]
