"""`jinyu synth` as the lead mounts it: app.command("synth")(command)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from jinyu.synth import Manifest
from jinyu.synth.cli import command

app = typer.Typer()
app.command("synth")(command)


@app.callback()
def _root() -> None:
    """Keep `synth` a subcommand, as under the real root app."""


def test_unknown_scale_is_a_readable_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "--scale", "huge", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "unknown scale 'huge'" in result.output and "未知规模" in result.output
    assert not list(tmp_path.iterdir())


def test_json_output_is_the_manifest(tmp_path: Path) -> None:
    out = tmp_path / "region"
    result = CliRunner().invoke(
        app, ["synth", "--scale", "small", "--seed", "7", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == Manifest.read(out).to_dict()
    assert printed["scale"] == "small" and printed["seed"] == 7


def test_help_is_chinese_first_with_an_example() -> None:
    result = CliRunner().invoke(app, ["synth", "--help"])
    assert result.exit_code == 0
    assert result.output.index("生成确定性的合成区域") < result.output.index("Generate a deterministic")
    assert "jinyu synth --scale small --seed 7 --out ./region" in result.output
