"""Row ids: random version-4 UUIDs in 32 hex digits, never repeated across threads or a fork."""

from __future__ import annotations

import os
import sys
import threading
import uuid

import pytest

from jinyu.core.db import new_id


def test_ids_are_version_4_uuids_in_32_hex_digits() -> None:
    for _ in range(1000):  # past one 4 KiB buffer (256 ids)
        value = new_id()
        parsed = uuid.UUID(value)
        assert value == parsed.hex and (parsed.version, parsed.variant) == (4, uuid.RFC_4122)


def test_threads_never_share_ids() -> None:
    seen: list[list[str]] = [[] for _ in range(4)]

    def make(n: int) -> None:
        seen[n] = [new_id() for _ in range(2000)]

    threads = [threading.Thread(target=make, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for ids in seen for i in ids]
    assert len(set(every)) == len(every) == 8000


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_forked_child_does_not_repeat_its_parents_next_ids() -> None:
    new_id()  # the buffer is filled and partly used
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        os.close(read)
        os.write(write, "".join(new_id() for _ in range(10)).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 1000).decode()
    os.close(read)
    os.waitpid(pid, 0)
    parent = "".join(new_id() for _ in range(10))
    assert len(child) == 320 and {child[i : i + 32] for i in range(0, 320, 32)}.isdisjoint(
        {parent[i : i + 32] for i in range(0, 320, 32)}
    )
