from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from jinyu.config import SettingsError, load_settings


def test_keys_are_generated_once_with_0600(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    key = settings.key("signing_key")
    assert key == load_settings(data_dir=tmp_path).key("signing_key")
    mode = stat.S_IMODE(os.stat(tmp_path / "keys" / "signing_key").st_mode)
    assert mode == 0o600


def test_production_requires_keys_from_environment(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings(env="production", data_dir=tmp_path)
    assert "JINYU_SIGNING_KEY" in str(exc.value) and "JINYU_PSEUDONYM_KEY" in str(exc.value)


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"signing_key": "short"}, "JINYU_SIGNING_KEY"),
        ({"database_url": "mysql://x"}, "JINYU_DATABASE_URL"),
        ({"token_ttl_minutes": 0}, "JINYU_TOKEN_TTL_MINUTES"),
    ],
)
def test_bad_settings_name_the_variable(overrides: dict[str, object], variable: str) -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings(**overrides)
    assert variable in str(exc.value)


def test_bad_environment_variable_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINYU_LOGIN_MAX_FAILURES", "many")
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert "JINYU_LOGIN_MAX_FAILURES" in str(exc.value)
