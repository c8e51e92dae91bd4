"""`jinyu chain counterparties` shows each counterparty's tax change; `jinyu chain scorecard` prints the
reliability table by decile and refuses an unknown calibration method (exit 1, the field named)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jinyu.analytics import Lake
from jinyu.cli import app
from jinyu.config import get_settings
from jinyu.core import db, runtime
from jinyu.core.auth import OrgKind, Role
from jinyu.models import metadata
from tests.fixtures.auth import PASSWORD, make_org, make_user

from .lake import U, rows, write

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("JINYU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JINYU_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = runtime.engine_for(url)
    metadata.create_all(engine)
    with db.transaction(db.make_sessionmaker(engine)) as s:
        make_user(s, make_org(s, OrgKind.REGULATOR), Role.REGULATOR_ANALYST, username="analyst")
    write(Lake(get_settings().lake_dir), rows())
    yield
    engine.dispose()
    get_settings.cache_clear()


def _chain(*args: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["chain", *args, "--as-user", "analyst", "--password-stdin"], input=f"{PASSWORD}\n"
    )
    return result.exit_code, result.output


def test_counterparties_show_the_tax_change(store: None) -> None:
    code, out = _chain("counterparties", "new_display", U["c"], "--as-of-month", "2024-03", "--json")
    assert code == 0, out
    body = json.loads(out)
    # by hand (tests/chain/lake.py): m1 50,000 / 40,000 − 1; d1 70,000 / 90,000 − 1; m2 no tax before
    changes = {c["uscc"]: c["tax_change"] for c in body["suppliers"] + body["dealers"]}
    assert changes == {U["m1"]: "0.2500", U["m2"]: None, U["d1"]: "-0.2222"}
    code, out = _chain("counterparties", "new_display", U["c"], "--as-of-month", "2024-03")
    assert code == 0 and "tax change" in out and "0.2500" in out and "-0.2222" in out


def test_the_scorecard_prints_the_reliability_deciles(store: None) -> None:
    args = ("scorecard", "new_display", "--train-month", "2023-09", "--test-month", "2024-03")
    code, out = _chain(*args, "--json")
    assert code == 0, out
    body = json.loads(out)
    deciles = body["reliability"]
    assert sum(g["count"] for g in deciles) == body["test_size"]
    code, out = _chain(*args)
    assert code == 0 and "reliability by decile" in out
    code, out = _chain(*args, "--calibration-method", "beta")
    assert code == 1 and "calibration_method" in out and "isotonic or platt" in out
