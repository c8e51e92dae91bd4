"""`jinyu governance rules retire`: a new inactive version with --json; a second retire fails with the reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.migrate import upgrade


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    upgrade(get_settings())
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_retire_then_retire_again(data_dir: Path) -> None:
    args = ["governance", "rules", "retire", "judicial.amount.range", "--reason", "口径调整"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["code"], out["version"], out["active"]) == ("judicial.amount.range", 2, False)
    again = CliRunner().invoke(app, args)
    assert (
        again.exit_code == 1
        and "already retired" in again.output
        and "judicial.amount.range@2" in again.output
    )
