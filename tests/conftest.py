from __future__ import annotations

import os

import pytest

os.environ.setdefault("JINYU_ENV", "test")

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.auth"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under JINYU_REQUIRE_SUITES=postgres,spark a skip of those suites is reported as a failure by .ci/run."""
