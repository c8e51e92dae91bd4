"""A subset of one dataset's lake files, for a query that must read only some of them (e.g. the files a
quality check has not seen yet). Each row read through a file set carries its file's path in `_file`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

FILE_COLUMN = "_file"


@dataclass(frozen=True)
class FileSet:
    dataset: str
    paths: tuple[Path, ...]


def file_path(value: str) -> Path:
    """The path an engine reports for a row's file: DuckDB gives it as read, Spark as a `file:` URI."""
    if value.startswith("file:"):
        return Path(unquote(urlparse(value).path))
    return Path(value)
