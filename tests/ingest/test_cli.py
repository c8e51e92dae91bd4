from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest.docs import render_markdown
from jinyu.migrate import upgrade


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    upgrade(get_settings())
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_ingest_prints_a_report_and_json(data_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "banks.csv"
    f.write_text(
        "org_code,name,level,parent_code,district_code,uscc\n"
        "B1,总行,head_office,,500101,\nB2,支行,branch,B9,500101,\nB3,坏,planet,,500101,\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["ingest", "banks", str(f), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["accepted"], report["rejected"]) == (1, 2)
    assert report["rejected_by_reason"] == {"bad_choice": 1, "unknown_reference": 1}
    again = CliRunner().invoke(app, ["ingest", "banks", str(f)])
    assert again.exit_code == 0 and "already loaded" in again.output


def test_ingest_errors_exit_non_zero_with_a_message(data_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", "nosuch", str(tmp_path)])
    assert result.exit_code == 1 and "unknown_dataset" not in result.output and "未知数据集" in result.output
    missing = CliRunner().invoke(app, ["ingest", "banks", str(tmp_path / "none.csv")])
    assert missing.exit_code == 1 and "file not found" in missing.output


def test_data_formats_doc_is_current() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "data-formats.md"
    assert doc.read_text(encoding="utf-8") == render_markdown(CONTRACTS.values()), "run `jinyu datasets docs`"
