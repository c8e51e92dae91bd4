"""The data dir is private: 0700 directories and 0600 files after the CLI migrates and loads a file."""

from __future__ import annotations

import csv
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.governance.contracts import CONTRACTS


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    os.umask(0o022)  # what a default login shell gives a process
    data = tmp_path / "data"
    monkeypatch.setenv("JINYU_DATA_DIR", str(data))
    monkeypatch.delenv("JINYU_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def test_store_lake_keys_and_quarantine_are_private(data_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    source = tmp_path / "banks.csv"
    with source.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=CONTRACTS["banks"].column_names)
        w.writeheader()
        w.writerow({"org_code": "B1", "name": "一行", "level": "head_office", "district_code": "500101"})
        w.writerow(
            {
                "org_code": "B1-01",
                "name": "坏行",
                "level": "branch",
                "parent_code": "B9",
                "district_code": "500101",
            }
        )
    result = runner.invoke(app, ["ingest", "banks", str(source), "--json", "--no-progress"])
    assert result.exit_code == 0, result.output
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in files}
    assert {".sqlite3", ".parquet", ".csv"} <= kinds, kinds
    assert (data_dir / "keys" / "quarantine_key").exists()
    for path in [data_dir, *data_dir.rglob("*")]:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        expected = 0o700 if path.is_dir() else 0o600
        assert mode & 0o077 == 0, f"{path.relative_to(data_dir)}: {oct(mode)} (want {oct(expected)})"
