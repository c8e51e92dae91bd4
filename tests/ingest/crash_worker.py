"""An ingestion that dies on purpose, run as a child process by test_atomic_load.py.

Reads a JSON job on stdin (database URL, lake and quarantine directories, dataset, file) and a `phase` at
which it kills itself with SIGKILL, as `kill -9` would:
- `temp`: the first lake file is written under its hidden temporary name, nothing is linked yet;
- `linked`: every lake file is written (under its temporary name: it is published only after the
  commit), the load record is not written yet;
- `flushed`: the load record and its audit entry are flushed, not committed;
- `committed`: the transaction committed, the files are not published and the in-flight marker is not
  removed yet (the next load or start-up publishes them).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from jinyu.analytics import Lake
from jinyu.analytics import lake as lake_module
from jinyu.core import db
from jinyu.core.auth import SYSTEM
from jinyu.ingest import service


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(phase: str) -> None:
    if phase == "temp":
        write = lake_module._write

        def write_then_die(path: Path, part: Any) -> None:
            write(path, part)
            _die()

        lake_module._write = write_then_die  # type: ignore[assignment]
    elif phase == "linked":
        write_lake = service._write_lake

        def link_then_die(*args: Any) -> Any:
            write_lake(*args)
            _die()

        service._write_lake = link_then_die  # type: ignore[assignment]
    elif phase == "committed":
        from jinyu.analytics.pending import PendingLoad

        settle = PendingLoad.settle

        def die_when_kept(self: Any, keep: bool) -> None:
            if keep:
                _die()
            settle(self, keep)

        PendingLoad.settle = die_when_kept  # type: ignore[method-assign]


def main() -> None:
    job = json.loads(sys.stdin.read())
    _arm(job["phase"])
    factory = db.make_sessionmaker(db.make_engine(job["url"]))
    stores = service.Stores(
        lake=Lake(Path(job["lake"])),
        quarantine_dir=Path(job["quarantine"]),
        pseudonym_key=job["key"].encode(),
        quarantine_key=job["key"].encode(),
    )
    session = factory()
    service.ingest(session, SYSTEM, job["dataset"], Path(job["path"]), stores)
    if job["phase"] == "flushed":
        _die()
    session.commit()
    session.close()
    print("SURVIVED", flush=True)


if __name__ == "__main__":
    main()
