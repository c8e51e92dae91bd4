"""The kept index's `.npy` files are checked against their manifest (format line, the version's SHA-256, each
file's length and SHA-256) before they are mapped: a truncated or bit-flipped array, a missing, foreign or
malformed manifest is refused, the directory removed and the index built again, never served."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from jinyu.analytics import Lake, flowfiles
from jinyu.analytics.flowindex import ARRAYS, FlowIndexes, build

from .lake import write
from .test_kept import _index_dir
from .test_queries import _transfers
from .test_resident import _rows


@pytest.fixture
def kept(tmp_path: Path) -> Path:
    """A lake of ten transfers whose index one process built and kept."""
    root = tmp_path / "lake"
    write(Lake(root), _rows(_transfers(3)[:10]))
    flows = FlowIndexes()
    assert flows.get(root) is None
    assert flows.wait(60)
    return root


def test_the_manifest_names_every_array_with_its_length_and_sha256(kept: Path) -> None:
    where = _index_dir(kept)
    data = (where / flowfiles.MANIFEST).read_bytes()
    assert data.startswith(flowfiles.MAGIC)
    _version_digest, *entries = data[len(flowfiles.MAGIC) :].decode().splitlines()
    listed = {fields[0]: fields[1:] for fields in (e.split(" ") for e in entries)}
    assert sorted(listed) == sorted(f"{n}.npy" for n in ARRAYS)
    for name, (
        size,
        digest,
        ino,
        mtime,
        ctime,
    ) in listed.items():  # computed here independently of the module
        body = (where / name).read_bytes()
        assert (len(body), hashlib.sha256(body).hexdigest()) == (int(size), digest)
        info = (where / name).stat()
        assert (info.st_ino, info.st_mtime_ns, info.st_ctime_ns) == (int(ino), int(mtime), int(ctime))
    mapped = FlowIndexes().get(kept)  # intact: mapped at once, no build
    assert mapped is not None and isinstance(mapped.out_ts, np.memmap)


def _flip_last_byte(where: Path) -> None:
    path = where / f"{ARRAYS[0]}.npy"
    body = bytearray(path.read_bytes())
    body[-1] ^= 0x01  # a value in the data, same length: np.load alone would map it
    path.write_bytes(bytes(body))


def _truncate(where: Path) -> None:
    path = where / f"{ARRAYS[1]}.npy"
    path.write_bytes(path.read_bytes()[:-4])


def _no_manifest(where: Path) -> None:
    (where / flowfiles.MANIFEST).unlink()


def _other_version(where: Path) -> None:
    path = where / flowfiles.MANIFEST
    _head, rest = path.read_bytes()[len(flowfiles.MAGIC) :].split(b"\n", 1)
    path.write_bytes(flowfiles.MAGIC + hashlib.sha256(b"another").hexdigest().encode() + b"\n" + rest)


def _other_format(where: Path) -> None:
    path = where / flowfiles.MANIFEST
    path.write_bytes(b"jinyu flowindex 0\n" + path.read_bytes()[len(flowfiles.MAGIC) :])


def _malformed(where: Path) -> None:
    path = where / flowfiles.MANIFEST
    path.write_bytes(path.read_bytes() + b"garbage\n")


@pytest.mark.parametrize(
    "spoil", [_flip_last_byte, _truncate, _no_manifest, _other_version, _other_format, _malformed]
)
def test_a_spoiled_kept_index_is_refused_removed_and_built_again(
    kept: Path, spoil: Callable[[Path], None]
) -> None:
    where = _index_dir(kept)
    spoil(where)
    flows = FlowIndexes()
    assert flows.get(kept) is None  # not served: a build starts
    assert flows.wait(60)
    again = flows.get(kept)
    assert again is not None
    fresh = build(kept)
    for name in ARRAYS:
        assert np.array_equal(getattr(again, name), getattr(fresh, name)), name
    # The rebuilt files are kept with a manifest that vouches for them: the next process maps them.
    assert flowfiles.MANIFEST in {p.name for p in _index_dir(kept).iterdir()}
    mapped = FlowIndexes().get(kept)
    assert mapped is not None and isinstance(mapped.out_ts, np.memmap)


def _manifest_a_second_later(where: Path) -> None:
    """As on a real index, whose arrays take longer to write than one tick of the file clock."""
    manifest = where / flowfiles.MANIFEST
    os.utime(manifest, ns=(manifest.stat().st_atime_ns, manifest.stat().st_mtime_ns + 1_000_000_000))


def test_an_untouched_kept_index_is_vouched_for_by_its_stat_not_hashed_again(
    kept: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _manifest_a_second_later(_index_dir(kept))

    def no_hashing(path: Path) -> tuple[int, str]:
        raise AssertionError(f"hashed {path.name}")

    monkeypatch.setattr(flowfiles, "_digest", no_hashing)
    mapped = FlowIndexes().get(kept)
    assert mapped is not None and isinstance(mapped.out_ts, np.memmap)


def test_a_file_written_after_its_manifest_is_hashed_and_refused(kept: Path) -> None:
    where = _index_dir(kept)
    _manifest_a_second_later(where)
    time.sleep(0.05)  # past the file clock's tick: the write moves the change time, which nothing sets back
    path = where / f"{ARRAYS[0]}.npy"
    listed = path.stat()
    _flip_last_byte(where)
    os.utime(path, ns=(listed.st_atime_ns, listed.st_mtime_ns))  # the modification time put back
    flows = FlowIndexes()
    assert flows.get(kept) is None  # refused: a build starts
    assert flows.wait(60)


def test_a_file_touched_but_unchanged_is_hashed_and_served(
    kept: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = _index_dir(kept)
    _manifest_a_second_later(where)
    os.utime(where / f"{ARRAYS[2]}.npy")  # times moved, bytes the same (a backup tool, a touch)
    hashed: list[str] = []
    digest = flowfiles._digest

    def counting(path: Path) -> tuple[int, str]:
        hashed.append(path.name)
        return digest(path)

    monkeypatch.setattr(flowfiles, "_digest", counting)
    mapped = FlowIndexes().get(kept)
    assert mapped is not None and isinstance(mapped.out_ts, np.memmap)
    assert hashed == [f"{ARRAYS[2]}.npy"]
