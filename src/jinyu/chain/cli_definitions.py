"""`jinyu chain definition ...`: read and edit chain definitions at the console (regulator supervisors edit).

Each edit names the version it starts from (`--version`, as `show` prints it); a stale one fails with 409's
message and exit 1, invalid fields are listed one per line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from jinyu.chain.cli import API_KEY, AS_USER, CODE, JSON_OUT, PASSWORD_STDIN, USCC, _out, _run
from jinyu.core import lazy
from jinyu.core.cli_kit import handle_errors

if TYPE_CHECKING:
    from jinyu.chain import catalogue, schemas
    from jinyu.chain.schemas import ChainDefinitionOut
else:
    catalogue = lazy.module("jinyu.chain.catalogue")
    schemas = lazy.module("jinyu.chain.schemas")

app = typer.Typer(
    help="产业链定义：查看、修改、改派企业环节 / chain definitions: show, edit, override a member's segment. "
    "Example: `jinyu chain definition show new_display --as-user analyst`",
    no_args_is_help=True,
)
VERSION = typer.Option(
    ..., "--version", help="修改所基于的版本（show 显示）/ the version the edit starts from"
)
NOTE = typer.Option("", "--note", help="修改说明 / why")


def _print(r: ChainDefinitionOut, json_out: bool) -> None:
    _out(
        r,
        json_out,
        f"{r.name} {r.chain_code} v{r.version} (链长 / chief: {r.chief_bank_name}; 改派 / overrides: "
        f"{len(r.overrides)})",
        ["order", "segment", "name", "GB/T 4754"],
        [[i + 1, s.code, s.name, " ".join(s.industries)] for i, s in enumerate(r.segments)],
    )


@app.command("show")
@handle_errors
def show(
    code: str = CODE,
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """当前定义与版本号 / the current definition and its version.

    Example: jinyu chain definition show new_display --as-user analyst --json > new_display.json
    """
    r = _run(as_user, api_key, password_stdin, lambda s, p, e: catalogue.get_definition(s, p, code))
    _print(r, json_out)


@app.command("edit")
@handle_errors
def edit(
    code: str = CODE,
    file: Path = typer.Option(..., "--file", help="定义 JSON（含 version）/ definition JSON with `version`"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """按文件修改定义（带版本号）/ replace the definition from a file (name, segments, overrides, version).

    Example: jinyu chain definition edit new_display --file new_display.json --as-user supervisor
    """
    data = _parse(file)
    r = _run(as_user, api_key, password_stdin, lambda s, p, e: catalogue.edit(s, p, code, data))
    _print(r, json_out)


def _parse(file: Path) -> schemas.ChainDefinitionIn:
    import pydantic

    from jinyu.core.errors import FieldError, InvalidInput, invalid

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise invalid("file", f"无法读取 / cannot read {file}: {exc.strerror}") from None
    try:
        return schemas.ChainDefinitionIn.model_validate_json(text)
    except pydantic.ValidationError as exc:
        fields = [FieldError(".".join(str(p) for p in e["loc"]) or "file", e["msg"]) for e in exc.errors()]
        raise InvalidInput(fields=fields) from None


@app.command("set-segment")
@handle_errors
def set_segment(
    code: str = CODE,
    uscc: str = USCC,
    segment: str | None = typer.Option(None, "--segment", help="改派到该环节 / put it in this segment"),
    clear: bool = typer.Option(False, "--clear", help="取消改派 / back to the dataset's segment"),
    version: int = VERSION,
    note: str = NOTE,
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """改派一家企业的环节 / override one enterprise's segment (or --clear it).

    Example: jinyu chain definition set-segment new_display 91500000MA0000001X --segment panels --version 1 \\
    --as-user supervisor
    """
    from jinyu.core.errors import invalid

    if (segment is None) == (not clear):
        raise invalid("segment", "请给出 --segment 或 --clear 之一 / give exactly one of --segment, --clear")
    data = schemas.SegmentOverrideIn(version=version, segment=None if clear else segment, note=note)
    r = _run(as_user, api_key, password_stdin, lambda s, p, e: catalogue.set_segment(s, p, code, uscc, data))
    _print(r, json_out)
