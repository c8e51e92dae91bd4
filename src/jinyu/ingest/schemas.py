"""Load reports and dataset-contract views."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePath

from pydantic import BaseModel, ConfigDict, field_validator


class LoadReport(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    dataset: str
    file_name: str
    file_sha256: str
    rows_total: int
    accepted: int
    rejected: int
    rejected_by_reason: dict[str, int]
    quarantine_file: str | None
    lake_files: list[str]
    parties: dict[str, int]
    started_at: dt.datetime
    finished_at: dt.datetime
    already_loaded: bool = False

    @field_validator("quarantine_file")
    @classmethod
    def _quarantine_name(cls, v: str | None) -> str | None:
        """The file's name only: where the server keeps it is not the caller's business."""
        return PurePath(v).name if v else v

    @field_validator("lake_files")
    @classmethod
    def _lake_names(cls, v: list[str]) -> list[str]:
        """Relative to the lake root, as the layout names them: `<dataset>/[month=YYYY-MM/]part-<load>.parquet`."""
        return [_in_lake(PurePath(p)) for p in v]


def _in_lake(path: PurePath) -> str:
    keep = 3 if path.parent.name.startswith("month=") else 2
    return "/".join(path.parts[-keep:])


class ColumnOut(BaseModel):
    name: str
    kind: str
    level: str
    description: str
    required: bool
    check: str | None
    choices: list[str]
    protect: str | None


class ContractOut(BaseModel):
    name: str
    title: str
    provider: str
    key: list[str]
    partition_by: str | None
    columns: list[ColumnOut]
    references: dict[str, str]
    provided_by: list[str] = []
    owner_column: str | None = None


class QuarantinedRow(BaseModel):
    row_number: int
    reasons: list[str]
    values: dict[str, str | int | float | bool | None]


class QuarantineOut(BaseModel):
    load_id: str
    dataset: str
    rows: list[QuarantinedRow]
