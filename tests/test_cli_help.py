"""Every CLI command answers --help with an example, in Chinese and English."""

from __future__ import annotations

import re

import click
import pytest
import typer
from typer.testing import CliRunner

from jinyu.cli import LAZY, app, load_command


def _commands(group: click.Command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        path = (*prefix, name)
        if hasattr(command, "commands"):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


def _all_commands() -> list[tuple[str, ...]]:
    found = _commands(typer.main.get_group(app))
    for name in LAZY:  # mounted lazily: loaded here as running them loads them
        command = load_command(name)
        found.extend(_commands(command, (name,)) if hasattr(command, "commands") else [(name,)])
    return found


COMMANDS = _all_commands()
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


def test_the_root_help_imports_no_domain() -> None:
    """`jinyu --help` answers without importing the domains, the database or the analytics engines."""
    import subprocess
    import sys

    probe = (
        "import sys; from typer.testing import CliRunner; from jinyu.cli import app; "
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'duckdb', 'pyarrow', 'sqlglot'} "
        "or m.startswith(('jinyu.claim', 'jinyu.risk', 'jinyu.ingest', 'jinyu.audit', 'jinyu.analytics'))); "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", out.stdout
    listed = CliRunner().invoke(app, ["--help"], terminal_width=200).output
    assert all(name in listed for name in LAZY)


# pydantic among them: Typer (0.29) builds a parameter's coercion with pydantic's TypeAdapter when it first
# processes a value; jinyu.cli keeps the groups' missing options (completion, help) from building one.
HEAVY = ("pydantic", "sqlalchemy", "duckdb", "pyarrow", "sqlglot", "pandas", "numpy", "fastapi", "starlette",
         "pydantic_settings", "psycopg", "optbinning", "tenseal", "igraph", "networkx", "sklearn")  # fmt: skip


def test_no_help_imports_a_heavy_module() -> None:
    """Every `jinyu <group> --help` and `jinyu <group> <command> --help` answers without importing the engines,
    the database layer or the web framework (issue 19: they made each help take 3-5 s)."""
    import subprocess
    import sys

    probe = f"""
import sys
from typer.testing import CliRunner
from tests.test_cli_help import _commands
from jinyu.cli import LAZY, app, load_command
paths = []
for name in LAZY:
    command = load_command(name)
    paths.append((name,))
    paths.extend(_commands(command, (name,)) if hasattr(command, "commands") else [])
for path in paths:
    r = CliRunner().invoke(app, [*path, "--help"])
    assert r.exit_code == 0, (path, r.output)
print(len(paths), ",".join(sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    count, heavy = out.stdout.strip().split(" ", 1) if " " in out.stdout.strip() else (out.stdout.strip(), "")
    assert int(count) > 50
    assert heavy == "", heavy


def test_help_leaves_markdown_and_pygments_unimported() -> None:
    """Typer's help renderer imports rich.markdown and rich.traceback (markdown_it, pygments: about a third of
    a help's CPU); `jinyu.core.lazy_rich` defers them until used."""
    import subprocess
    import sys

    probe = """
import runpy, sys
sys.argv = ["jinyu", "risk", "--help"]
try:
    runpy.run_module("jinyu.cli", run_name="__main__")
except SystemExit as e:
    assert not e.code, e.code
print("LOADED", ",".join(sorted({m.split(".")[0] for m in sys.modules} & {"markdown_it", "pygments"})))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "贷款" in out.stdout or "loan" in out.stdout  # the help was printed
    assert out.stdout.strip().endswith("LOADED"), out.stdout[-200:]


def test_the_deferred_rich_classes_are_the_real_ones_when_used() -> None:
    import subprocess
    import sys

    probe = """
import sys
from jinyu.core.lazy_rich import defer
defer()
import typer.rich_utils as r
assert "markdown_it" not in sys.modules and "pygments" not in sys.modules
import rich.markdown, rich.traceback
md = r.Markdown("# 标题 / title")
try:
    1 / 0
except ZeroDivisionError as e:
    tb = r.Traceback.from_exception(type(e), e, e.__traceback__)
assert type(md) is sys.modules["rich.markdown"].Markdown, type(md)
assert type(tb) is sys.modules["rich.traceback"].Traceback, type(tb)
assert sys.modules["rich"].markdown is sys.modules["rich.markdown"]
from rich.console import Console
import io
c = Console(record=True, width=60, file=io.StringIO())
c.print(md)
c.print(tb)
text = c.export_text()
assert "标题" in text and "ZeroDivisionError" in text, text
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok", out.stdout + out.stderr
