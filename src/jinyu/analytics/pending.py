"""Loads in flight: what lets a load's files appear only together with the record that owns them.

A load's files are written before the operational store commits its load record (the lake is slow, the record
is quick), under hidden temporary names (`.part-<load_id>.parquet.<hex>.tmp`) that readers' globs do not match.
To make the pair atomic, the writer first creates an *intent* file, `<root>/_pending/<load_id>.json`, naming the
load and the datasets it writes, and holds an exclusive `flock` on it for as long as the load is undecided. When
the record's transaction ends, the writer settles the intent: after a commit it *publishes* the files (links
each into place under its final name), after a rollback it removes them; then the intent goes. So no reader
sees a load's rows before its record is committed.

A writer killed at any point leaves its intent behind, unlocked (the kernel drops the locks of a dead
process). `recover` — run before every load and at start-up — takes each unlocked intent, asks the caller
whether a load record for it was committed, and either publishes what the writer left unpublished or removes
its files; it also removes temporary files whose load is not live. So after a crash the lake holds exactly the
files of committed loads once the next load or start-up has run; until then a killed load's rows are invisible,
and a committed load killed before it published is invisible only until then.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jinyu.analytics import layout
from jinyu.core.errors import Conflict, InvalidInput

log = logging.getLogger("jinyu.lake")
PENDING_DIR = "_pending"
_TEMP_RE = re.compile(r"^\.part-(?P<load_id>.+)\.parquet\.[0-9a-f]{32}\.tmp$")

# Loads in flight in this process, by the thread that runs each: a load never waits for one of its own thread
# (two loads in one uncommitted transaction would wait for each other forever); other threads' loads it waits
# for like any other process's.
_OWN: dict[str, int] = {}
SETTLE_WAIT_SECONDS = 30.0

# (dataset, load_id) -> was a load record committed for it?
Committed = Callable[[str, str], bool]


def pending_dir(root: Path) -> Path:
    return root / PENDING_DIR


def temp_files(root: Path, dataset: str) -> list[Path]:
    base = layout.dataset_dir(root, dataset)
    return sorted(p for p in base.rglob(".part-*.tmp") if _TEMP_RE.match(p.name)) if base.is_dir() else []


def remove_load(root: Path, dataset: str, load_id: str) -> None:
    """Every file of one load in one dataset: linked parts and temporary files."""
    part = layout.part_name(load_id)
    stale = [p for p in layout.data_files(root, dataset) if p.name == part]
    stale += [p for p in temp_files(root, dataset) if _load_of(p) == load_id]
    for p in stale:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _load_of(temp: Path) -> str | None:
    match = _TEMP_RE.match(temp.name)
    return match["load_id"] if match else None


class PendingLoad:
    """The intent of one undecided load; `settle` it exactly once (keeping or removing its files)."""

    def __init__(self, root: Path, load_id: str, datasets: Iterable[str]) -> None:
        self.root = root
        self.load_id = layout.check_load_id(load_id)
        self.datasets = [layout.check_dataset(d) for d in datasets]
        directory = pending_dir(root)
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{self.load_id}.json"
        self.staged: list[tuple[Path, Path]] = []  # (final, temporary) files to publish if kept
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise Conflict(detail=f"同一批次正在加载 / load {load_id!r} is in progress elsewhere") from None
        _OWN[self.load_id] = threading.get_ident()
        body = json.dumps({"load_id": self.load_id, "datasets": self.datasets}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, body, 0)
        os.fsync(self._fd)
        _fsync_dir(directory)

    @property
    def open(self) -> bool:
        return self._fd is not None

    def stage(self, pairs: Iterable[tuple[Path, Path]]) -> None:
        """Files written under temporary names, to be published if the load is kept."""
        self.staged.extend(pairs)

    def settle(self, keep: bool) -> None:
        """The record committed (`keep`) or did not: publish or remove the files, then drop the intent.

        Runs after the transaction has ended, so it does not raise: if publishing fails (a full disk), the
        intent and the temporary files stay, and `recover` publishes them at the next load or start-up."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if keep:
                publish(self.staged)
            else:  # its linked and temporary files alike
                for dataset in self.datasets:
                    remove_load(self.root, dataset, self.load_id)
            _unlink(self.path)
        except Exception:
            log.exception("lake load %s not settled; the next load or start-up settles it", self.load_id)
        finally:
            _OWN.pop(self.load_id, None)
            try:
                layout.mark_changed(self.root)
            except OSError:
                log.exception("lake change marker not replaced after load %s", self.load_id)
            finally:
                os.close(fd)  # releases the lock only now, after the files are settled


@dataclass
class Recovered:
    """What `recover` did: loads kept (their record committed), loads removed, stray temp files removed."""

    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    temps: int = 0


def wait_for_settled(
    root: Path, datasets: Iterable[str] | None, timeout: float = SETTLE_WAIT_SECONDS
) -> None:
    """Wait until no other process's load of these datasets (None: of any dataset) is in flight.

    Called by a load once it holds its datasets' lock: a load still in flight then has committed its record and
    is publishing its files (it released the lock by committing), so waiting is short — and the new load's
    duplicate and reference checks then see those rows. 409 if it does not end within `timeout`."""
    wanted = None if datasets is None else set(datasets)
    deadline = time.monotonic() + timeout
    directory = pending_dir(root)
    for intent in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        if _OWN.get(intent.stem) == threading.get_ident():
            continue
        while not _settled_or_other(intent, wanted):
            if time.monotonic() > deadline:
                raise Conflict(
                    detail=f"同一数据集的另一批次仍在发布 / load {intent.stem} of the same dataset is still being "
                    "published; retry shortly"
                )
            time.sleep(0.01)


def _settled_or_other(intent: Path, wanted: set[str] | None) -> bool:
    """True when the intent is gone, unlocked (a dead writer's: `recover` settles it) or of other datasets."""
    try:
        fd = os.open(intent, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        try:
            info = json.loads(os.pread(fd, 1 << 16, 0) or b"{}")
            if wanted is not None and not wanted & set(info.get("datasets", [])):
                return True
        except (ValueError, TypeError, AttributeError):
            pass  # being written: judge by its lock
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its writer is alive and settling
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def recover(root: Path, committed: Committed) -> Recovered:
    """Settle the intents of dead writers and remove temporary files that no live load owns."""
    done = Recovered()
    live: set[str] = set()
    directory = pending_dir(root)
    for intent in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        outcome = _settle_dead(root, intent, committed)
        if outcome is None:
            live.add(intent.stem)
        elif outcome:
            done.kept.append(intent.stem)
        else:
            done.removed.append(intent.stem)
    for dataset in layout.dataset_names(root) + _dirs_without_files(root):
        for temp in temp_files(root, dataset):
            if _load_of(temp) not in live:
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
                    done.temps += 1
    if root.is_dir() and not (root / layout.CHANGED_MARKER).exists():
        layout.mark_changed(root)  # a lake written before the marker existed: readers may keep listings now
    return done


def _settle_dead(root: Path, intent: Path, committed: Committed) -> bool | None:
    """None when the writer is alive; else True (files kept) or False (files removed)."""
    try:
        fd = os.open(intent, os.O_RDWR)
    except FileNotFoundError:
        return None  # settled meanwhile by its writer
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        if not _still_at(intent, fd):
            return None  # its writer settled it meanwhile (and maybe a new writer took the name)
        try:
            info = json.loads(os.pread(fd, 1 << 16, 0) or b"{}")
            load_id, datasets = info["load_id"], list(info["datasets"])
        except (ValueError, KeyError, TypeError):
            load_id, datasets = intent.stem, []  # written only partly: nothing was linked yet
        keep = bool(datasets) and committed(datasets[0], load_id)
        try:
            for dataset in datasets:
                if keep:  # committed, killed before it published everything: publish what it left
                    _publish_left(root, dataset, load_id)
                else:
                    remove_load(root, dataset, load_id)
        finally:
            if datasets:
                layout.mark_changed(root)
        with contextlib.suppress(FileNotFoundError):
            intent.unlink()
        return keep
    finally:
        os.close(fd)


def publish(pairs: Sequence[tuple[Path, Path]]) -> list[Path]:
    """Link each temporary file into place under its final name, then remove the temporary names.

    `os.link` fails when the target exists, so a concurrent load with the same id cannot overwrite a file;
    on any failure the files this call linked are removed again and the temporary files stay (for a retry)."""
    done: list[Path] = []
    try:
        for final, temp in pairs:
            os.link(temp, final)
            done.append(final)
    except FileExistsError as exc:
        for p in done:
            _unlink(p)
        raise Conflict(detail=f"文件已存在 / file already exists: {exc.filename}") from None
    except BaseException:
        for p in done:
            _unlink(p)
        raise
    for _, temp in pairs:
        _unlink(temp)
    for directory in {p.parent for p in done}:
        _fsync_dir(directory)
    return done


def _publish_left(root: Path, dataset: str, load_id: str) -> None:
    """A committed load's temporary files not yet linked into place (its writer died publishing): link them."""
    for temp in temp_files(root, dataset):
        if _load_of(temp) != load_id:
            continue
        final = temp.with_name(layout.part_name(load_id))
        if final.exists():
            _unlink(temp)  # linked before the writer died
        else:
            publish([(final, temp)])


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _still_at(path: Path, fd: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _dirs_without_files(root: Path) -> list[str]:
    """Dataset directories holding only temporary files (a first load killed before it linked anything)."""
    if not root.is_dir():
        return []
    names = set(layout.dataset_names(root))
    out = []
    for p in root.iterdir():
        if p.is_dir() and p.name not in names and p.name != PENDING_DIR:
            with contextlib.suppress(InvalidInput):
                out.append(layout.check_dataset(p.name))
    return out


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
