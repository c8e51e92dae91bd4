"""`jinyu risk purpose-matrix` against a throwaway SQLite store: show, store a version, refuse bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from jinyu.audit.models import AuditEntry
from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.core import db, runtime
from jinyu.models import metadata

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = runtime.engine_for(url)
    metadata.create_all(engine)
    yield db.make_sessionmaker(engine)
    engine.dispose()
    get_settings.cache_clear()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["risk", "purpose-matrix", *args])
    return result.exit_code, result.output


def test_show_set_and_refuse(store: sessionmaker[Session], tmp_path: Path) -> None:
    code, out = _run("--json")
    assert code == 0, out
    shown = json.loads(out)
    assert (shown["version"], shown["source"]) == (0, "built_in")
    entries = [
        {"purpose": e["purpose"], "kind": e["kind"], "prohibited": e["prohibited"] or e["purpose"] == "trade"}
        for e in shown["entries"]
    ]
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"base_version": 0, "entries": entries}), encoding="utf-8")
    code, out = _run("--set", str(path), "--note", "收紧 / stricter", "--json")
    assert code == 0, out
    assert json.loads(out)["version"] == 1
    code, out = _run("--set", str(path), "--note", "again")  # still based on version 0
    assert code == 1 and "purpose matrix changed" in out
    code, out = _run("--set", str(path))  # no note
    assert code == 1 and "note" in out
    path.write_text("{not json", encoding="utf-8")
    code, out = _run("--set", str(path), "--note", "x")
    assert code == 1 and "m.json" in out
    code, out = _run("--version", "1")
    assert code == 0 and "v1" in out
    with store() as s:
        assert (
            len(s.scalars(select(AuditEntry).where(AuditEntry.action == "risk.purpose_matrix.update")).all())
            == 1
        )
