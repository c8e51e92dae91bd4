"""The resident tracing context kept on disk beside the lake, read back by the next process instead of rebuilt.

Building the context (`tables.load`: every small dataset scanned, the refund rule's transfers, one Python row
per record) takes 1.2 s on the medium region on a quiet machine and 4-8 s on a loaded one; until it is built a
loan check runs its per-loan statements while the build takes the cores. Its rows depend only on the lake's
files (`data_version` of the datasets tracing reads), so the process that built it keeps it as one file per
version (`<lake>.tracing-context/<digest>/tables.pickle`, written as `flowfiles` writes the transfer index), and
the next process (a restart, another worker) reads it back (a fraction of the build, the collector paused meanwhile).

The file is Python's pickle of `tables.Tables`, written by this code only; it is read only from a directory
owned by this user and private to it (`flowfiles.kept_dir`), so it is trusted exactly as far as the data
directory it sits in (which holds the instance's keys too). A file that does not read back as `Tables` is
removed and the context is built again.
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


@cache
def _code() -> str:
    """The code that shapes the tables (what they hold and how rows look): another release's file is another
    version, never read back as this one's."""
    digest = hashlib.sha256(sys.version.encode())
    for module in (tables, reversals, balances):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def versioned(version: str) -> str:
    """The key of the kept file: the lake's data version and the code's."""
    return f"{_code()}\n{version}"


def read(lake_root: Path, version: str) -> Tables | None:
    """The tables kept for this data version, or None."""
    version = versioned(version)
    where = flowfiles.kept_dir(lake_root, version, KIND)
    if where is None:
        return None
    try:
        with (where / FILE).open("rb") as fh:
            tables = _unpickled(fh.read())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError) as exc:
        flowfiles.discard(lake_root, version, str(exc), KIND)
        return None
    if not isinstance(tables, Tables):
        flowfiles.discard(lake_root, version, f"not tables: {type(tables).__name__}", KIND)
        return None
    return tables


def _unpickled(data: bytes) -> object:
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
        with (staging / FILE).open("wb") as fh:
            pickle.dump(tables, fh, protocol=pickle.HIGHEST_PROTOCOL)

    flowfiles.save(lake_root, version, KIND, write)
