"""The README's commands work as written on a fresh clone: they call `.tools/bin/uv` (which `make bootstrap`
always provides, linked to a uv on PATH or installed there), never a bare `uv`, and every `jinyu` command they
show exists with every option they pass (checked against the command's own --help)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jinyu.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
MAKEFILE = README.parent / "Makefile"
PREFIX = ".tools/bin/uv run jinyu "


def _snippet_lines() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    return [line for block in blocks for line in block.splitlines()]


def _jinyu_commands() -> list[list[str]]:
    commands = []
    for line in _snippet_lines():
        at = line.find(PREFIX)
        if at >= 0:
            commands.append(shlex.split(line[at + len(PREFIX) :], comments=True))
    return commands


def test_snippets_never_call_a_bare_uv() -> None:
    bare = [line for line in _snippet_lines() if re.search(r"(^|[\s|;&(])uv run", line)]
    assert not bare, bare


def test_bootstrap_always_provides_tools_uv() -> None:
    assert "UV := $(TOOLS)/bin/uv" in MAKEFILE.read_text(encoding="utf-8")


@pytest.mark.parametrize("words", _jinyu_commands(), ids=lambda w: " ".join(w[:3]))
def test_each_command_and_option_exists(words: list[str]) -> None:
    path = [w for w in words[:2] if re.fullmatch(r"[a-z][a-z-]*", w)]
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for option in (w.split("=")[0] for w in words if w.startswith("--")):
        assert option in result.output, f"{' '.join(path)} has no {option}"


def test_readme_shows_commands() -> None:
    assert len(_jinyu_commands()) >= 4
