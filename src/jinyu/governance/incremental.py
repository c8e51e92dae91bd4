"""Incremental checks: each lake file is checked once per check signature and its counts are kept.

Lake files are immutable (a load adds files, never rewrites one), and every count a check makes — records,
failures per rule, anomalous records, nulls, sums — is a sum over records, and every record is in exactly
one file. So a dataset's counts are the sums of its files' counts, and a check after a load only has to scan
the files it has not seen under the same **signature**: the compiled rule set (its SQL text carries every
rule's definition), the check day when a rule reads it, the engine, and the content of every dataset the
counts of one file depend on — a reference's target (new registrations can cure a failure) and, for
uniqueness, the dataset itself (a new file can duplicate an old record). Rates are computed afterwards from
the summed counts, never averaged. Freshness keeps the latest value (a maximum, which combines like a sum).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from jinyu.analytics import Engine, FileSet, Query, file_path
from jinyu.governance.sqlplan import CheckPlan

SOURCE = "_checked"  # the relation of the files being scanned; never a dataset name (those start a-z)
_KEYS = ("period", "provider")


class CheckCache(Protocol):
    """Where files' content hashes and their check rows are kept (the database; a dict in benchmarks)."""

    def content_hashes(self, files: Sequence[Path]) -> dict[Path, str]: ...

    def rows(self, signature: str, hashes: set[str]) -> dict[str, list[dict[str, Any]]]: ...

    def keep(self, dataset: str, signature: str, file_hash: str, rows: list[dict[str, Any]]) -> None: ...


@dataclass(frozen=True)
class Scan:
    """A check's aggregate rows (as one full scan would give them) and what it took to make them."""

    rows: list[dict[str, Any]]
    files: int
    scanned_files: int
    rows_scanned: int
    signature: str

    def explain(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "scanned_files": self.scanned_files,
            "reused_files": self.files - self.scanned_files,
            "rows_scanned": self.rows_scanned,
            "signature": self.signature[:16],
        }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def signature(
    plan: CheckPlan, params: Mapping[str, Any], engine_kind: str, depends: Mapping[str, Iterable[str]]
) -> str:
    """The key under which a file's rows stay valid; `depends` maps each dataset the counts depend on to its
    files' content hashes."""
    used = {k: str(v) for k, v in params.items() if k in plan.params}
    body = {
        "sql": plan.sql,
        "params": used,
        "engine": engine_kind,
        "depends": {d: sorted(hashes) for d, hashes in sorted(depends.items())},
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def scan(
    engine: Engine,
    plan: CheckPlan,
    params: Mapping[str, Any],
    files: Mapping[str, Sequence[Path]],
    cache: CheckCache,
    *,
    full: bool = False,
) -> Scan:
    """`plan` (compiled with `source=SOURCE`) over the dataset's files, scanning only the files without
    rows under this signature (every file when `full`); `files` lists the files of the dataset and of every
    dataset in `plan.depends_on`."""
    own = list(files[plan.dataset])
    hashes = cache.content_hashes([p for d in {plan.dataset, *plan.depends_on} for p in files[d]])
    depends = {d: [hashes[p] for p in files[d]] for d in plan.depends_on}
    sig = signature(plan, params, engine.kind, depends)
    known = {} if full else cache.rows(sig, {hashes[p] for p in own})
    missing = [p for p in own if hashes[p] not in known]
    scanned_rows = 0
    if missing:
        fresh = _scan_files(engine, plan, params, missing)
        for path in missing:
            rows = fresh.get(path, [])
            scanned_rows += sum(int(r["n_rows"]) for r in rows)
            if hashes[path] not in known:
                cache.keep(plan.dataset, sig, hashes[path], [encode(r) for r in rows])
                known[hashes[path]] = [encode(r) for r in rows]
    merged = merge(decode(r) for p in own for r in known[hashes[p]])
    return Scan(merged, len(own), len(missing), scanned_rows, sig)


def _scan_files(
    engine: Engine, plan: CheckPlan, params: Mapping[str, Any], paths: list[Path]
) -> dict[Path, list[dict[str, Any]]]:
    query = Query(plan.name, plan.sql, plan.params, f"quality check of {plan.dataset} (files)")
    bound = {k: v for k, v in params.items() if k in plan.params}
    table = engine.run_over_files(query, {SOURCE: FileSet(plan.dataset, tuple(paths))}, **bound)
    by_file: dict[Path, list[dict[str, Any]]] = {}
    for row in table.to_pylist():
        path = file_path(str(row.pop("file")))
        by_file.setdefault(path, []).append(row)
    return by_file


def merge(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows of several files added up per (period, provider): counts and sums add, `f<i>` keeps the latest."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row.get(k) for k in _KEYS)
        into = out.get(key)
        if into is None:
            out[key] = dict(row)
            continue
        for name, value in row.items():
            if name in _KEYS or value is None:
                continue
            held = into.get(name)
            if held is None:
                into[name] = value
            elif name.startswith("f"):
                into[name] = max(held, value)
            else:
                into[name] = held + value
    return list(out.values())


def encode(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as JSON values, its dates, timestamps and decimals tagged so that `decode` restores them."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, dt.datetime):
            out[name] = {"ts": value.isoformat()}
        elif isinstance(value, dt.date):
            out[name] = {"date": value.isoformat()}
        elif isinstance(value, Decimal):
            out[name] = {"dec": str(value)}
        else:
            out[name] = value
    return out


def decode(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, dict):
            tag, text = next(iter(value.items()))
            out[name] = (
                dt.datetime.fromisoformat(text)
                if tag == "ts"
                else dt.date.fromisoformat(text)
                if tag == "date"
                else Decimal(text)
            )
        else:
            out[name] = value
    return out


class MemoryCache:
    """A cache held in memory (benchmarks, tests): hashes every file it is asked about once."""

    def __init__(self) -> None:
        self.hashes: dict[Path, str] = {}
        self.kept: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def content_hashes(self, files: Sequence[Path]) -> dict[Path, str]:
        for path in files:
            if path not in self.hashes:
                self.hashes[path] = sha256_file(path)
        return {p: self.hashes[p] for p in files}

    def rows(self, signature: str, hashes: set[str]) -> dict[str, list[dict[str, Any]]]:
        return {h: self.kept[(signature, h)] for h in hashes if (signature, h) in self.kept}

    def keep(self, dataset: str, signature: str, file_hash: str, rows: list[dict[str, Any]]) -> None:
        self.kept[(signature, file_hash)] = rows
