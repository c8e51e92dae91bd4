"""GET /api/v1/keys/pseudonym for the roles that may see key status, and `jinyu keys` on a throwaway hub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from jinyu.analytics import Lake
from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.core import runtime
from jinyu.core.auth import OrgKind, Role
from jinyu.core.privacy import token_version
from jinyu.models import metadata
from tests.fixtures.auth import login, make_org, make_user
from tests.risk.tracing.lake import golden_rows, write

from .region import tokenized

URL = "/api/v1/keys/pseudonym"


def test_key_status_for_supervisors_and_platform_admins_only(client: TestClient, session: Session) -> None:
    regulator = make_org(session, OrgKind.REGULATOR)
    users = {
        "supervisor": make_user(session, regulator, Role.REGULATOR_SUPERVISOR),
        "admin": make_user(session, make_org(session, OrgKind.OPERATOR), Role.PLATFORM_ADMIN),
        "analyst": make_user(session, regulator, Role.REGULATOR_ANALYST),
    }
    session.commit()
    for name in ("supervisor", "admin"):
        got = client.get(URL, headers=login(client, users[name].username))
        assert got.status_code == 200, got.text
        body = got.json()
        assert (body["current"], body["rotation_in_progress"], [v["state"] for v in body["versions"]]) == (
            1, False, ["current"],
        )  # fmt: skip
        assert "key" not in json.dumps(body["versions"])
    assert client.get(URL, headers=login(client, users["analyst"].username)).status_code == 403
    assert client.get(URL).status_code == 401


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    monkeypatch.setenv("JINYU_PSEUDONYM_KEY", "k" * 32)
    get_settings.cache_clear()
    engine = runtime.engine_for(url)
    metadata.create_all(engine)
    write(Lake(tmp_path / "lake"), tokenized(golden_rows()), "G1")
    yield tmp_path
    engine.dispose()
    get_settings.cache_clear()


def _run(*args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, ["keys", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cli_dry_run_rotate_list_translate(hub: Path) -> None:
    plan = _run("rotate", "--dry-run")
    assert (plan["dry_run"], plan["from_version"], plan["to_version"], plan["lake_files"]) == (True, 1, 2, 4)
    assert not (hub / "keys" / "pseudonym_keyring.json").exists()
    done = _run("rotate")
    assert (done["dry_run"], done["lake_files_swapped"], done["audit_id"] is not None) == (False, 4, True)
    listed = _run("list")
    assert (listed["current"], [v["state"] for v in listed["versions"]]) == (2, ["grace", "current"])
    old = tokenized({"accounts": [{"owner_id": "pt_rep_of_borrower"}]})["accounts"][0]["owner_id"]
    out = _run("translate", old)
    assert (out["version"], out["current_version"], token_version(out["current_token"])) == (1, 2, 2)
    again = _run("rotate", "--dry-run")  # the next rotation would start from version 2
    assert (again["from_version"], again["to_version"], again["lake_files"]) == (2, 3, 4)
