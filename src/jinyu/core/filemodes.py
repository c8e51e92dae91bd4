"""The data dir is the hub's alone: 0700 directories, 0600 files (SQLite store, lake Parquet, keys, quarantine).

Every boundary (the API app, each CLI command, jobs) opens the store through `runtime.sessionmaker_for`, and
migrations through `migrate.upgrade`; both call `secure_data_dir` first. It sets the process umask to 077, so
every file and directory created afterwards (by SQLite, DuckDB, pyarrow, Alembic) is private to the service
user, creates the data dir 0700, and tightens the SQLite file and its journals if an older version left them
readable. Files an older version wrote elsewhere under the data dir are not walked at start-up (a lake holds
many files): `chmod -R go-rwx <data dir>` once after upgrading, as docs/security.md says.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077


def secure_data_dir(data_dir: Path, database_url: str | None = None) -> None:
    os.umask(PRIVATE_UMASK)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(data_dir, 0o700)
    if database_url and database_url.startswith("sqlite:///"):
        store = Path(database_url.removeprefix("sqlite:///"))
        for path in (store, store.with_name(store.name + "-wal"), store.with_name(store.name + "-shm")):
            if path.exists():
                os.chmod(path, 0o600)
