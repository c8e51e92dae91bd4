from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jinyu.analytics import DuckDBEngine, Lake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


@pytest.fixture
def duck(lake: Lake) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(lake.root)
    yield engine
    engine.close()
