"""`jinyu chain definition`: bad input fails with exit 1 and a bilingual, field-level message (no database is
needed to refuse it)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from jinyu.chain.cli import app


def test_an_invalid_definition_file_names_its_fields(tmp_path: Path) -> None:
    bad = tmp_path / "def.json"
    bad.write_text(json.dumps({"version": "one", "name": "新型显示", "segments": [{"code": "x"}]}))
    result = CliRunner().invoke(app, ["definition", "edit", "new_display", "--file", str(bad)])
    assert result.exit_code == 1
    for field in ("version", "name_en", "segments.0.name"):
        assert f"- {field}:" in result.output


def test_a_missing_file_and_a_contradictory_override_are_refused(tmp_path: Path) -> None:
    gone = CliRunner().invoke(app, ["definition", "edit", "new_display", "--file", str(tmp_path / "no.json")])
    assert gone.exit_code == 1 and "无法读取 / cannot read" in gone.output
    both = CliRunner().invoke(
        app,
        [
            "definition",
            "set-segment",
            "new_display",
            "91500000MA0000001X",
            "--version",
            "0",
            "--clear",
            "--segment",
            "panels",
        ],
    )
    assert both.exit_code == 1 and "exactly one of --segment, --clear" in both.output
