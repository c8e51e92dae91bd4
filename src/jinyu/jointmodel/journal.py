"""Files each party keeps per job: the capture of every protocol frame and a hash-chained audit file.

capture.bin: records of direction byte (b"S" sent, b"R" received) | frame length (8 bytes, big-endian) | frame.
audit.jsonl: one JSON object a line {seq, at, event, data, prev, hash}; hash = SHA-256 of the canonical JSON of
{seq, at, event, data, prev}; prev is the previous line's hash ("0"*64 for the first), so editing, removing or
reordering a line breaks every later hash.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinyu.jointmodel.envelope import canonical
from jinyu.jointmodel.errors import AuditChainBroken

GENESIS = "0" * 64


def capture(path: Path, direction: bytes, frame: bytes) -> None:
    with path.open("ab") as f:
        f.write(direction + struct.pack(">Q", len(frame)) + frame)


def read_capture(path: Path) -> Iterator[tuple[str, bytes]]:
    data = path.read_bytes() if path.exists() else b""
    offset = 0
    while offset < len(data):
        direction = data[offset : offset + 1].decode()
        (length,) = struct.unpack(">Q", data[offset + 1 : offset + 9])
        yield direction, data[offset + 9 : offset + 9 + length]
        offset += 9 + length


def _digest(entry: dict[str, Any]) -> str:
    return hashlib.sha256(
        canonical({k: entry[k] for k in ("seq", "at", "event", "data", "prev")})
    ).hexdigest()


def read_audit(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def append_audit(path: Path, event: str, data: dict[str, Any]) -> dict[str, Any]:
    entries = read_audit(path)
    prev = entries[-1]["hash"] if entries else GENESIS
    entry: dict[str, Any] = {
        "seq": len(entries) + 1,
        "at": datetime.now(UTC).isoformat(),
        "event": event,
        "data": data,
        "prev": prev,
    }
    entry["hash"] = _digest(entry)
    with path.open("a") as f:
        f.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
    return entry


def verify_audit(path: Path) -> int:
    """Number of entries when the chain holds; AuditChainBroken naming the first bad line otherwise."""
    prev = GENESIS
    entries = read_audit(path)
    for number, entry in enumerate(entries, start=1):
        if entry.get("seq") != number or entry.get("prev") != prev or _digest(entry) != entry.get("hash"):
            raise AuditChainBroken(detail=f"{path.name} 第 {number} 行 / line {number}")
        prev = entry["hash"]
    return len(entries)
