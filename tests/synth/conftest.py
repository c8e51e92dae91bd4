"""A small region generated once per test session, and helpers to read its datasets back."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from jinyu.synth import Manifest, generate

SEED = 7


@pytest.fixture(scope="session")
def region_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("region")
    generate(out, "small", SEED, progress=False)
    return out


@pytest.fixture(scope="session")
def manifest(region_dir: Path) -> Manifest:
    return Manifest.read(region_dir)


def read_rows(region_dir: Path, manifest: Manifest, name: str) -> list[dict[str, Any]]:
    """Rows of a dataset: CSV as raw strings (empty -> None), Parquet as Python values."""
    rows: list[dict[str, Any]] = []
    for f in manifest.datasets[name].files:
        path = region_dir / f.path
        if path.suffix == ".csv":
            with path.open(encoding="utf-8", newline="") as fh:
                rows.extend({k: (v if v != "" else None) for k, v in r.items()} for r in csv.DictReader(fh))
        else:
            rows.extend(pq.read_table(path).to_pylist())
    return rows


@pytest.fixture(scope="session")
def rows(region_dir: Path, manifest: Manifest) -> Callable[[str], list[dict[str, Any]]]:
    cache: dict[str, list[dict[str, Any]]] = {}

    def get(name: str) -> list[dict[str, Any]]:
        if name not in cache:
            cache[name] = read_rows(region_dir, manifest, name)
        return cache[name]

    return get
