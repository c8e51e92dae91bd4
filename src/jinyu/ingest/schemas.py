"""Load reports and dataset-contract views."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict


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
