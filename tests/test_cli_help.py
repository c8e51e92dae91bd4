"""Every CLI command answers --help with an example, in Chinese and English."""

from __future__ import annotations

import re

import click
import pytest
import typer
from typer.testing import CliRunner

from jinyu.cli import app


def _commands(group: click.Command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        path = (*prefix, name)
        if hasattr(command, "commands"):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


COMMANDS = _commands(typer.main.get_group(app))
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_there_are_commands() -> None:
    assert ("ingest",) in COMMANDS and ("audit", "verify") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_has_an_example_in_both_languages(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Example" in text or "例" in text, f"{' '.join(path)}: no example in --help"
    assert CJK.search(text), f"{' '.join(path)}: no Chinese text"
