"""Helpers every domain's CLI uses: error handling, JSON output, tables."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from jinyu.core.errors import JinyuError

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors (a lost or refused database connection among them) into a readable message on stderr
    and exit code 1 (2 for bad settings)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except JinyuError as exc:
            err_console.print(f"[bold red]错误 / error[/]: {message_once(exc)}", highlight=False)
            for f in exc.fields:
                err_console.print(f"  - {f.field}: {f.message}", highlight=False)
            raise typer.Exit(1) from None
        except Exception as exc:
            # here, not at the top: `jinyu --help` imports this module (and dbfaults imports SQLAlchemy)
            from jinyu.config import SettingsError
            from jinyu.core.dbfaults import unavailable

            if isinstance(exc, SettingsError):
                err_console.print(f"[bold red]{exc}[/]")
                raise typer.Exit(2) from None
            lost = unavailable(exc)  # the database is down or the connection went: say so, exit 1
            if lost is None:
                raise
            err_console.print(f"[bold red]错误 / error[/]: {lost}")
            raise typer.Exit(1) from None

    return wrapper


def message_once(exc: JinyuError) -> str:
    """The error's title and detail, without repeating what its field lines (printed after it) say."""
    field_text = "; ".join(f"{f.field}: {f.message}" for f in exc.fields)
    if exc.detail and exc.detail != exc.title and exc.detail not in field_text:
        return f"{exc.title} — {exc.detail}"
    return exc.title


def to_jsonable(value: Any) -> Any:
    from pydantic import BaseModel  # here, not at the top: `jinyu --help` imports this module

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2, default=str) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
