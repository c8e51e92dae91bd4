from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from jinyu import config
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


# -- key files kept per process while their stat holds (config._key_file) --------------------------------------


def _settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock as if every key file had been written long ago (kept from the first read on)."""
    monkeypatch.setattr(config, "_now_ns", lambda: time.time_ns() + 3_600 * 10**9)


def _refuse_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(self: Path, *args: object, **kwargs: object) -> str:
        raise AssertionError(f"{self} read again")

    monkeypatch.setattr(Path, "read_text", refused)


def test_a_settled_key_file_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _settled(monkeypatch)
    settings = load_settings(data_dir=tmp_path)
    key = settings.key("signing_key")  # generated
    assert settings.key("signing_key") == key  # read and kept
    _refuse_reads(monkeypatch)
    assert settings.key("signing_key") == key
    assert load_settings(data_dir=tmp_path).key("signing_key") == key


def test_a_key_file_rotated_by_rename_is_picked_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _settled(monkeypatch)
    settings = load_settings(data_dir=tmp_path)
    old = settings.key("signing_key")
    assert settings.key("signing_key") == old  # kept
    path = tmp_path / "keys" / "signing_key"
    new = "r" * len(old)  # same size
    (tmp_path / "keys" / "next").write_text(new)
    os.utime(tmp_path / "keys" / "next", ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))  # same times
    os.replace(tmp_path / "keys" / "next", path)
    assert settings.key("signing_key") == new.encode()
    assert settings.key("signing_key") == new.encode()


def test_a_key_file_rewritten_in_place_is_picked_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _settled(monkeypatch)
    settings = load_settings(data_dir=tmp_path)
    old = settings.key("signing_key")
    assert settings.key("signing_key") == old  # kept
    path = tmp_path / "keys" / "signing_key"
    before = path.stat()
    new = "w" * len(old)  # same size, same inode, the modification time set back as `cp -p` would
    deadline = time.monotonic() + 5
    while path.stat().st_ctime_ns == before.st_ctime_ns and time.monotonic() < deadline:
        path.write_text(new)  # until the file system's clock has ticked: a new change time
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_ino == before.st_ino and path.stat().st_mtime_ns == before.st_mtime_ns
    assert settings.key("signing_key") == new.encode()


def test_a_key_file_changed_just_now_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing_key"
    path.parent.mkdir()
    path.write_text("k" * 48)
    settings = load_settings(data_dir=tmp_path)
    assert settings.key("signing_key") == b"k" * 48
    assert path not in config._key_files  # written within the settle time: read again at every use
    path.write_text("j" * 48)  # possibly within the same tick of the clock: same stat
    assert settings.key("signing_key") == b"j" * 48


def test_a_key_in_the_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _settled(monkeypatch)
    load_settings(data_dir=tmp_path).key("signing_key")
    chosen = "e" * 40
    assert load_settings(data_dir=tmp_path, signing_key=chosen).key("signing_key") == chosen.encode()
