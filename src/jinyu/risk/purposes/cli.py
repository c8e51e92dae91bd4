"""`jinyu risk purpose-matrix`: show the purpose × use matrix, or store a new version from a JSON file.

The console acts as the platform's system principal (like `jinyu risk stats`); a stored version is audited
as the system's, with the note given.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from jinyu.core import lazy
from jinyu.core.auth import SYSTEM, Perm
from jinyu.core.cli_kit import handle_errors, print_json, print_table
from jinyu.core.errors import FieldError, InvalidInput

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu.core import runtime
    from jinyu.risk.purposes import schemas, service
else:
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.risk.purposes.schemas")
    service = lazy.module("jinyu.risk.purposes.service")

_CONSOLE = replace(SYSTEM, perms=SYSTEM.perms | {Perm.RISK_MATRIX_READ, Perm.RISK_MATRIX_WRITE})


def _print(matrix: schemas.PurposeMatrixOut) -> None:
    kinds = matrix.kinds
    prohibited = {(e.purpose, e.kind): e.prohibited for e in matrix.entries}
    print_table(
        f"用途相容性矩阵 v{matrix.version} / purpose matrix v{matrix.version} ({matrix.source}): 禁止=✗ 允许=✓",
        ["purpose", *kinds],
        [[p.label, *("✗" if prohibited[(p.code, k)] else "✓" for k in kinds)] for p in matrix.purposes],
    )


@handle_errors
def purpose_matrix(
    version: int | None = typer.Option(
        None, "--version", min=0, help="版本（缺省当前）/ a version; default: in force"
    ),
    set_file: Path | None = typer.Option(
        None,
        "--set",
        exists=True,
        dir_okay=False,
        help="存储新版本：JSON 文件 / store a new version from a JSON file",
    ),
    note: str | None = typer.Option(
        None, "--note", help="修改说明（--set 时必填）/ why (required with --set)"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """贷款用途相容性矩阵 / the purpose × use matrix.

    Example 示例: jinyu risk purpose-matrix --json. Change: write the whole matrix as JSON
    ({"base_version": 0, "entries": [{"purpose": "refinancing", "kind": "other_loan", "prohibited": false}, ...]})
    and run jinyu risk purpose-matrix --set matrix.json --note "置换贷款可还旧贷 / refinancing repays old loans".
    """
    with runtime.unit_of_work() as session:
        if set_file is None:
            matrix = service.show(session, _CONSOLE, version)
        else:
            matrix = service.update(session, _CONSOLE, _read(set_file, note))
    if json_out:
        print_json(matrix)
    else:
        _print(matrix)


def _read(path: Path, note: str | None) -> schemas.PurposeMatrixIn:
    import pydantic

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(detail=f"{path}: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidInput(detail=f"{path}: 须为 JSON 对象 / must be a JSON object")
    if note:
        raw["note"] = note
    try:
        return schemas.PurposeMatrixIn.model_validate(raw)
    except pydantic.ValidationError as exc:
        fields = [FieldError(".".join(str(x) for x in e["loc"]), e["msg"]) for e in exc.errors()]
        raise InvalidInput(detail=str(path), fields=fields) from None
