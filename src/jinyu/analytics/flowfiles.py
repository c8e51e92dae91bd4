"""The resident transfer index kept on disk beside the lake, mapped by the next process instead of rebuilt.

Building the index (`flowindex.build`) reads and sorts every transfer: 1.8 s on the medium region on a quiet
machine, 6-7 s on a loaded one. Until it is built, a serving process traces over the lake, one statement per
hop, while the build takes the cores: the first loan checks after a start took most of a second, or seconds.
The arrays depend only on the transfers' files, so a process keeps them as `.npy` files once built, and the
next process (a restart, another worker) maps them (`numpy.load(mmap_mode="r")`: milliseconds; pages are read
on first touch and shared between processes through the page cache) instead of building again.

Layout: `<lake>.flowindex/<digest of the transfers' version>/` holding one `.npy` per array. A load adds or
changes transfer files, so it changes the version and its digest: the old directory no longer matches and is
removed when the new one is written. Nothing in the directory is needed for correctness: delete it at will,
the next start builds again. A directory is written under a temporary name, its files synced, and renamed
into place, so a reader sees a complete index or none (never a half-written file); a second writer of the
same version loses the rename and drops its copy. The arrays are mapped read-only: the hop code only reads them.

The arrays are checked before they are mapped, as the kept tracing context is before it is unpickled: the
directory holds a `manifest` (a format line, `MAGIC`; the SHA-256 of the version it was written for; per array
file its name, byte length and SHA-256, and the file's inode, modification and change times as the writer saw
them), written last. A missing or other-format manifest, another version's, a file of another length
(truncated) or another digest (a flipped bit), or files the manifest does not name, and the directory is removed
and the index built again, never served.

Hashing every byte at every start cost ~0.1 s on the medium region (84 MiB) but ~1 s on the large one (892 MiB,
slow machine, page cache warm; 3 s cold), paid by each worker's start and each CLI check. So a file is hashed
only when its stat no longer vouches for it: same inode, same modification and change times as recorded, and
both strictly older than the manifest itself (git's "racily clean" rule: a write in the manifest's own clock tick
could keep the recorded times, so such a file is hashed every time). Any write to a file after the manifest
moves its change time, which no process can set back; a copied directory (other inodes) is hashed. What stat
cannot see is a bit flipped by the disk under an unchanged inode: that is the storage layer's to catch.

Processes that would build the same piece at once (`jinyu serve --workers 2` after a load, a server and a
load's preparation) take turns: a build holds the kind's lock file (`<lake>.<kind>/.lock`, `building`), and a
process that finds it held waits in its build thread, then maps what the holder kept instead of building too.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jinyu.analytics.builds import Build

log = logging.getLogger(__name__)
STALE_SECONDS = 3600  # a staging directory this old belongs to a writer that died
LOCK = ".lock"
LOCK_WAIT_SECONDS = (
    900.0  # past this, a waiter builds anyway (a holder stuck rather than dead: flock ends with it)
)
LOCK_POLL_SECONDS = 0.1
MAGIC = b"jinyu flowindex 2\n"  # the manifest's format: another layout is another line
MANIFEST = "manifest"


def files_dir(lake_root: Path, kind: str = "flowindex") -> Path:
    """Beside the lake, never inside it (no dataset), as `results.store_dir`."""
    root = Path(lake_root).resolve()
    return root.with_name(f"{root.name}.{kind}")


def version_dir(lake_root: Path, version: str, kind: str = "flowindex") -> Path:
    digest = hashlib.sha256(version.encode()).hexdigest()[:24]
    return files_dir(lake_root, kind) / digest


def kept_dir(lake_root: Path, version: str, kind: str) -> Path | None:
    """The directory kept for this version, or None: none, or not private to this user (then it is not
    read: what is kept there is only trusted as far as the data directory itself is)."""
    where = version_dir(lake_root, version, kind)
    try:
        info = where.stat()
    except OSError:
        return None
    if not where.is_dir() or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        return None
    return where


def verified(lake_root: Path, version: str, names: Iterable[str]) -> bool:
    """Whether the arrays kept for this version are there and vouched for by their manifest, as `open_arrays`
    checks them (not mapped); refused ones are removed, as there."""
    where = kept_dir(lake_root, version, "flowindex")
    if where is None:
        return False
    why = _unverified(where, version, [f"{name}.npy" for name in names])
    if why is not None:
        discard(lake_root, version, why)
        return False
    return True


def open_arrays(lake_root: Path, version: str, names: Iterable[str]) -> dict[str, np.ndarray] | None:
    """The arrays kept for this version of the transfers, mapped read-only; None when there are none (or
    they are unreadable: then they are removed, and the caller builds)."""
    where = kept_dir(lake_root, version, "flowindex")
    if where is None:
        return None
    names = list(names)
    why = _unverified(where, version, [f"{name}.npy" for name in names])
    if why is not None:
        discard(lake_root, version, why)
        return None
    try:
        return {name: np.load(where / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in names}
    except (OSError, ValueError) as exc:
        discard(lake_root, version, str(exc))
        return None


def _manifest(where: Path, version: str, files: Iterable[str]) -> bytes:
    """`MAGIC`, the version's SHA-256, then one line per file: name, byte length, SHA-256 (hex), inode,
    modification and change times (ns)."""
    lines = [_sha256_hex(version.encode())]
    for name in files:
        with (where / name).open("rb") as fh:
            info = os.fstat(fh.fileno())
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        lines.append(f"{name} {info.st_size} {digest} {info.st_ino} {info.st_mtime_ns} {info.st_ctime_ns}")
    return MAGIC + "\n".join(lines).encode() + b"\n"


def _unverified(where: Path, version: str, files: list[str]) -> str | None:
    """Why the kept files cannot be trusted (None: the manifest vouches for every one of them)."""
    try:
        with (where / MANIFEST).open("rb") as fh:
            written_ns = os.fstat(fh.fileno()).st_mtime_ns
            data = fh.read()
    except OSError:
        return "no manifest"
    if not data.startswith(MAGIC):
        return "manifest of another format"
    head, *entries = data[len(MAGIC) :].decode("ascii", "replace").splitlines()
    if head != _sha256_hex(version.encode()):
        return "manifest of another version"
    try:
        listed = {name: _Listed.parse(rest) for name, rest in (e.split(" ", 1) for e in entries)}
    except ValueError:
        return "malformed manifest"
    if sorted(listed) != sorted(files):
        return "manifest names other files"
    for name, entry in listed.items():
        try:
            why = entry.refuses(where / name, written_ns)
        except OSError as exc:
            return f"{name}: {exc}"
        if why is not None:
            return f"{name}: {why}"
    return None


@dataclass(frozen=True)
class _Listed:
    """One file as the manifest lists it."""

    size: int
    sha256: str
    ino: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def parse(cls, text: str) -> _Listed:
        size, digest, ino, mtime, ctime = text.split(" ")
        return cls(int(size), digest, int(ino), int(mtime), int(ctime))

    def refuses(self, path: Path, manifest_written_ns: int) -> str | None:
        """Why the file is not the one listed (None: it is): its stat vouches for it, else its SHA-256."""
        info = path.stat()
        if info.st_size != self.size:
            return "length differs from the manifest's"
        untouched = (info.st_ino, info.st_mtime_ns, info.st_ctime_ns) == (
            self.ino,
            self.mtime_ns,
            self.ctime_ns,
        )
        if untouched and max(self.mtime_ns, self.ctime_ns) < manifest_written_ns:
            return None
        if _digest(path) != (self.size, self.sha256):
            return "length or SHA-256 differs from the manifest's"
        return None


def _digest(path: Path) -> tuple[int, str]:
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        return size, hashlib.file_digest(fh, "sha256").hexdigest()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def discard(lake_root: Path, version: str, why: str, kind: str = "flowindex") -> None:
    where = version_dir(lake_root, version, kind)
    log.warning(
        "保存的文件不可用，已删除，将重新构建；立即重建并保存：jinyu prepare / kept files unusable, removed: "
        "built again in the background and kept when that build ends (a process that exits first keeps "
        "nothing); to build and keep them now: `jinyu prepare`",
        extra={"dir": str(where), "error": why},
    )
    shutil.rmtree(where, ignore_errors=True)


@contextmanager
def building(lake_root: Path, kind: str, build: Build | None = None) -> Iterator[bool]:
    """Hold the build lock of `kind` beside this lake while building (other processes' builds of it wait).
    Yields True when held; False when it could not be taken (no lock file possible, or waited
    `LOCK_WAIT_SECONDS`): the caller builds anyway, as before locks. `build`: stop waiting when cancelled."""
    where = files_dir(lake_root, kind)
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(where / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        log.warning("build lock not taken", extra={"dir": str(where), "error": str(exc)})
        yield False
        return
    try:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        held = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    log.warning("build lock held too long; building anyway", extra={"dir": str(where)})
                    break
                if build is not None:
                    build.check()
                time.sleep(LOCK_POLL_SECONDS)
        yield held
    finally:
        os.close(fd)  # releases the lock


def save_arrays(lake_root: Path, version: str, arrays: Mapping[str, np.ndarray]) -> Path | None:
    """Keep the arrays of this version on disk and remove other versions'; None when they could not be
    written (a full or read-only disk costs the next process a build, nothing else)."""

    def write(staging: Path) -> None:
        for name, array in arrays.items():
            np.save(staging / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        files = [f"{name}.npy" for name in arrays]
        (staging / MANIFEST).write_bytes(_manifest(staging, version, files))  # last: it vouches for the rest

    return save(lake_root, version, "flowindex", write)


def save(lake_root: Path, version: str, kind: str, write: Callable[[Path], None]) -> Path | None:
    """`write` the files of this version into a private staging directory, renamed into place; other
    versions' directories removed. None when nothing could be written (logged)."""
    target = version_dir(lake_root, version, kind)
    parent = target.parent
    try:
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if target.is_dir() and kept_dir(lake_root, version, kind) is None:
            shutil.rmtree(target)  # not private to this user: never read, so replaced
        if not target.is_dir():
            staging = Path(tempfile.mkdtemp(prefix=".writing-", dir=parent))  # 0700
            try:
                write(staging)
                _sync(staging)  # the files' bytes on disk before the name says they are complete
                os.rename(staging, target)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
                if not target.is_dir():  # else another process wrote the same version first: fine
                    raise
    except OSError as exc:
        log.warning("kept files not written", extra={"dir": str(target), "error": str(exc)})
        return None
    for other in parent.iterdir():  # older versions, and staging directories of writers that died
        if other.name == LOCK:
            continue
        if other != target and (not other.name.startswith(".writing-") or _stale(other)):
            shutil.rmtree(other, ignore_errors=True)
    return target


def _sync(directory: Path) -> None:
    for path in directory.iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _stale(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime > STALE_SECONDS
    except OSError:
        return False
