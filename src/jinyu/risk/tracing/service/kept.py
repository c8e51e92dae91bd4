"""The resident tracing context kept on disk beside the lake, read back by the next process instead of rebuilt.

Building the context (`tables.load`: every small dataset scanned, the refund rule's transfers, one Python row
per record) takes 1.2 s on the medium region on a quiet machine and 4-8 s on a loaded one; until it is built a
loan check runs its per-loan statements while the build takes the cores. Its rows depend only on the lake's
files (`data_version` of the datasets tracing reads), so the process that built it keeps it as one file per
version (`<lake>.tracing-context/<digest>/tables.pickle`, written as `flowfiles` writes the transfer index), and
the next process (a restart, another worker) reads it back (a fraction of the build, the collector paused meanwhile).

The file is Python's pickle of `tables.Tables`, written by this code only; it is read only from a directory
owned by this user and private to it (`flowfiles.kept_dir`), so it is trusted exactly as far as the data
directory it sits in (which holds the instance's keys too). Before anything is unpickled the file's header is
checked: a format line (`MAGIC`), the digest of the version it was written for (the code's and the data's: a
file copied or left from another version is refused) and the SHA-256 of the pickle that follows (a truncated or
damaged file is refused). A refused file, or one that does not read back as `Tables`, is removed and the
context is built again; nothing half-written is ever read (the file is renamed into place whole, `flowfiles`).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import pickle
import sys
from functools import cache
from pathlib import Path

from jinyu.analytics import flowfiles
from jinyu.risk.tracing.service import balances, reversals, tables
from jinyu.risk.tracing.service.tables import Tables

log = logging.getLogger(__name__)
KIND = "tracing-context"
FILE = "tables.pickle"
MAGIC = b"jinyu tracing-context 1\n"  # the format: another layout of the header is another line
_DIGEST = 32  # SHA-256


@cache
def _code() -> str:
    """The code that shapes the tables (what they hold and how rows look) and this file's format: another
    release's file is another version, never read back as this one's."""
    digest = hashlib.sha256(sys.version.encode())
    for source in (tables.__file__, reversals.__file__, balances.__file__, __file__):
        digest.update(Path(str(source)).read_bytes())
    return digest.hexdigest()


def versioned(version: str) -> str:
    """The key of the kept file: the lake's data version and the code's."""
    return f"{_code()}\n{version}"


def is_kept(lake_root: Path, version: str) -> bool:
    """Whether tables of this data version are kept and pass their header's checks (format, version,
    checksum; to read back, not to build). A refused file is removed, as `read` removes it: not kept."""
    version = versioned(version)
    where = flowfiles.kept_dir(lake_root, version, KIND)
    if where is None or not (where / FILE).is_file():
        return False
    try:
        checked((where / FILE).read_bytes(), version)
    except (OSError, ValueError) as exc:
        flowfiles.discard(lake_root, version, f"{type(exc).__name__}: {exc}", KIND)
        return False
    return True


def read(lake_root: Path, version: str) -> Tables | None:
    """The tables kept for this data version, or None."""
    version = versioned(version)
    where = flowfiles.kept_dir(lake_root, version, KIND)
    if where is None:
        return None
    try:
        with (where / FILE).open("rb") as fh:
            payload = checked(fh.read(), version)
        tables = _unpickled(payload)
    except Exception as exc:  # unreadable, refused by the header, or not our pickle: built again
        flowfiles.discard(lake_root, version, f"{type(exc).__name__}: {exc}", KIND)
        return None
    if not isinstance(tables, Tables):
        flowfiles.discard(lake_root, version, f"not tables: {type(tables).__name__}", KIND)
        return None
    return tables


def framed(payload: bytes, version: str) -> bytes:
    """The file's bytes: `MAGIC`, the version's digest, the payload's digest, the payload."""
    return b"".join((MAGIC, _sha256(version.encode()), _sha256(payload), payload))


def checked(data: bytes, version: str) -> memoryview:
    """The payload of a file written by `framed` for this version; ValueError when it is not one."""
    head = len(MAGIC)
    if not data.startswith(MAGIC):
        raise ValueError("not a kept tracing context of this format")
    if data[head : head + _DIGEST] != _sha256(version.encode()):
        raise ValueError("written for another version")
    payload = memoryview(data)[head + 2 * _DIGEST :]
    if len(data) < head + 2 * _DIGEST or data[head + _DIGEST : head + 2 * _DIGEST] != _sha256(payload):
        raise ValueError("checksum mismatch: truncated or damaged")
    return payload


def _sha256(data: bytes | memoryview) -> bytes:
    return hashlib.sha256(data).digest()


def _unpickled(data: bytes | memoryview) -> object:
    """Our own file, in a private directory (the module's doc). The collector is paused meanwhile: the
    hundreds of thousands of rows created would otherwise set off full collections over every object of the
    process, several times the unpickling itself (measured: 3.5-10.7 s against 0.9 s on a loaded machine)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(data)
    finally:
        if paused:
            gc.enable()


def keep(lake_root: Path, version: str, tables: Tables) -> None:
    """Write the tables of this data version for the next process (other versions' files removed)."""
    version = versioned(version)

    def write(staging: Path) -> None:
        payload = pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL)
        (staging / FILE).write_bytes(framed(payload, version))

    flowfiles.save(lake_root, version, KIND, write)
