"""The pseudonym keyring: versioned HMAC keys, so that tokens can move to a new key without the raw values.

Version 1 is the historical key (`JINYU_PSEUDONYM_KEY`, else `<data dir>/keys/pseudonym_key`); versions 2 and
up live in `<data dir>/keys/pseudonym_keyring.json`, written by `jinyu keys rotate` only, mode 0600 in a 0700
directory (refused otherwise: a readable key lets anyone test guesses against every token). The file names the
version in force (`current`) and, during a rotation, the one being rolled out (`pending`). Key material is
never logged, printed or put in an exception message.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

KEYRING_FILE = "pseudonym_keyring.json"
# Tokens live in String(40) columns: "pt_v99_" + 32 hex characters is 39.
MAX_VERSION = 99


class KeyringError(Exception):
    """The keyring file is unsafe or unreadable; the message names the file, never a key."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[int, bytes]
    current: int = 1
    pending: int | None = None
    # When each version came into force (version 1: unknown, None); old tokens are accepted for a grace period.
    since: dict[int, dt.datetime] = field(default_factory=dict)
    grace_days: int = 90
    # The keys directory it was read from (None for a ring built in memory): lets a long-running load re-read the
    # file at the moment it matters (`reloaded`), instead of trusting a snapshot taken when its request began.
    source: Path | None = field(default=None, compare=False)

    def __repr__(self) -> str:  # never show key material, even in a traceback
        return f"Keyring(versions={sorted(self.keys)}, current={self.current}, pending={self.pending})"

    def key(self, version: int) -> bytes:
        return self.keys[version]

    def at(self, version: int) -> Keyring:
        """The same keys with `version` in force (used to write tokens of the version being rolled out)."""
        return replace(self, current=version, pending=None)


_cache: dict[Path, tuple[tuple[int, int, int, bytes, int], Keyring]] = {}


def path_in(keys_dir: Path) -> Path:
    return keys_dir / KEYRING_FILE


def load(keys_dir: Path, first_key: bytes, grace_days: int = 90) -> Keyring:
    """The keyring: version 1 is `first_key`; the file adds later versions. Cached until the file changes."""
    path = path_in(keys_dir)
    try:
        st = path.stat()
    except FileNotFoundError:
        return Keyring({1: first_key}, grace_days=grace_days, source=keys_dir)
    # The inode too: `save` renames a new file into place, so two saves within one mtime tick still differ.
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size, first_key, grace_days)
    hit = _cache.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    _check_private(path, st)
    ring = replace(_parse(path, first_key, grace_days), source=keys_dir)
    _cache[path] = (stamp, ring)
    return ring


def reloaded(ring: Keyring) -> Keyring:
    """The ring as its file says now (a rotation may have begun or ended since `ring` was read)."""
    if ring.source is None:
        return ring
    return load(ring.source, ring.key(1), ring.grace_days)


def _check_private(path: Path, st: os.stat_result) -> None:
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise KeyringError(f"{path}: 密钥文件须为 0600 / key file must be mode 0600 (chmod 600 {path})")
    parent = path.parent.stat()
    if stat.S_IMODE(parent.st_mode) & 0o077:
        raise KeyringError(
            f"{path.parent}: 密钥目录须为 0700 / keys directory must be mode 0700 (chmod 700 {path.parent})"
        )


def _parse(path: Path, first_key: bytes, grace_days: int) -> Keyring:
    try:
        doc = json.loads(path.read_text())
        keys = {1: first_key} | {int(v): e["key"].encode() for v, e in doc["versions"].items()}
        since = {
            int(v): dt.datetime.fromisoformat(e["since"]) for v, e in doc["versions"].items() if e["since"]
        }
        current, pending = int(doc["current"]), doc.get("pending")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise KeyringError(f"{path}: 密钥环文件无法读取 / keyring file is unreadable or malformed") from None
    missing = [v for v in range(1, max([current, pending or 0]) + 1) if v not in keys]
    if missing:
        raise KeyringError(f"{path}: 缺少版本 / missing key versions {missing}")
    return Keyring(keys, current, pending, since, grace_days)


def save(keys_dir: Path, ring: Keyring) -> None:
    """Write the file atomically (temp file 0600, fsync, rename); version 1 is never written to it."""
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(keys_dir, 0o700)
    doc = {
        "current": ring.current,
        "pending": ring.pending,
        "versions": {
            str(v): {"key": k.decode(), "since": ring.since[v].isoformat() if v in ring.since else None}
            for v, k in sorted(ring.keys.items())
            if v > 1
        },
    }
    path = path_in(keys_dir)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(keys_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    _cache.pop(path, None)


def with_new_version(ring: Keyring) -> Keyring:
    """The ring with a fresh random key for the next version, marked pending (not yet in force)."""
    version = ring.current + 1
    if version > MAX_VERSION:
        raise KeyringError(f"最多 {MAX_VERSION} 个版本 / at most {MAX_VERSION} key versions")
    return replace(ring, keys={**ring.keys, version: secrets.token_urlsafe(48).encode()}, pending=version)


def activated(ring: Keyring, now: dt.datetime) -> Keyring:
    """The pending version put in force from `now`."""
    if ring.pending is None:
        return ring
    return replace(ring, current=ring.pending, pending=None, since={**ring.since, ring.pending: now})
