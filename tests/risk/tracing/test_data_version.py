"""The data version a result states: a fingerprint of the files read, kept per file set between requests and
new as soon as a load adds a file or a file is rewritten (no explicit invalidation needed)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import MappingProxyType

from jinyu.analytics import Lake, layout
from jinyu.governance.contracts import CONTRACTS
from jinyu.risk.tracing.service import base

from .lake import golden_rows, table, write

DATASETS = ("transfers", "accounts")


def _by_hand(root: Path) -> tuple[str, int]:
    """sha256 over "relative path<TAB>size<LF>" of each file, datasets in name order, files in layout order."""
    digest, count = hashlib.sha256(), 0
    for dataset in sorted(DATASETS):
        for p in layout.data_files(root, dataset):
            digest.update(f"{p.relative_to(root).as_posix()}\t{p.stat().st_size}\n".encode())
            count += 1
    return digest.hexdigest()[:32], count


def test_fingerprint_follows_loads_and_rewrites(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    lake = Lake(root)
    write(lake, golden_rows())
    first = base.data_version(root, DATASETS)
    assert (first.fingerprint, first.files) == _by_hand(root)
    assert first.transfers_last_month == "2024-04"
    listing = base.list_lake(root)
    assert base.data_version(root, DATASETS, listing) == first  # from the kept hash: the same answer
    assert base.data_version(root, reversed(DATASETS), listing) == first  # order of the names does not matter

    late = dict(golden_rows()["transfers"][0], txn_id="LATE1", ts="2024-06-02T09:00:00+08:00")
    contract = CONTRACTS["transfers"]
    lake.append("transfers", table("transfers", [late]), "L2", partition_by=contract.partition_by,
                sort_by=contract.sort_by, mirrors=dict(contract.mirrors) or None)  # fmt: skip
    loaded = base.data_version(root, DATASETS)
    assert (loaded.fingerprint, loaded.files) == _by_hand(root) != (first.fingerprint, first.files)
    assert loaded.transfers_last_month == "2024-06"
    assert (
        base.data_version(root, DATASETS, listing) == first
    )  # a request pinned before the load keeps its own
    assert (
        base.data_version(root, DATASETS, base.list_lake(root)) == loaded
    )  # a request pinned after: the load
    again = base.data_version(root, DATASETS, listing)
    assert again == first and again is not base.data_version(root, DATASETS, listing)  # a model of its own

    account_file = layout.data_files(root, "accounts")[0]
    account_file.write_bytes(account_file.read_bytes() + b"\0")  # rewritten in place, one byte longer
    rewritten = base.data_version(root, DATASETS)
    assert rewritten.fingerprint == _by_hand(root)[0] != loaded.fingerprint


def test_kept_hashes_stay_bounded(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    write(Lake(root), golden_rows())
    for i in range(base._VERSIONS_KEPT + 5):
        fake = {"transfers": (("transfers/month=2024-01/part-x.parquet", i, 1),), "accounts": ()}
        version = base.data_version(root, DATASETS, fake)
        assert version.files == 1 and version.transfers_last_month == "2024-01"
    assert len(base._VERSIONS) <= base._VERSIONS_KEPT
    for i in range(base._VERSIONS_KEPT + 5):  # read-only listings, as requests pin them: kept by identity
        pinned = MappingProxyType(
            {"transfers": (("transfers/month=2024-02/part-x.parquet", i, 1),), "accounts": ()}
        )
        version = base.data_version(root, DATASETS, pinned)
        assert version.files == 1 and version.transfers_last_month == "2024-02"
        assert base.data_version(root, DATASETS, pinned) == version
    assert len(base._BY_LISTING) <= base._VERSIONS_KEPT
