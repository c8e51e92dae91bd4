"""The database side of incremental checks: lake files' content hashes and each file's check rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jinyu.governance.incremental import sha256_file
from jinyu.governance.models import FileCheck, LakeFileHash


class DbCheckCache:
    """`incremental.CheckCache` in the hub's database, so every process (CLI, API, workers) shares it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def content_hashes(self, files: Sequence[Path]) -> dict[Path, str]:
        known = {
            row.path: row
            for row in self.session.scalars(
                select(LakeFileHash).where(LakeFileHash.path.in_([str(p) for p in files]))
            )
        }
        out: dict[Path, str] = {}
        for path in files:
            stat = path.stat()
            row = known.get(str(path))
            if row is None or row.size != stat.st_size or row.mtime_ns != stat.st_mtime_ns:
                digest = sha256_file(path)
                if row is None:
                    row = LakeFileHash(
                        path=str(path), size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256=digest
                    )
                    self.session.add(row)
                    known[str(path)] = row
                else:  # the same path written anew (a test lake, a restored backup): hashed again
                    row.size, row.mtime_ns, row.sha256 = stat.st_size, stat.st_mtime_ns, digest
            out[path] = row.sha256
        self.session.flush()
        return out

    def rows(self, signature: str, hashes: set[str]) -> dict[str, list[dict[str, Any]]]:
        stmt = select(FileCheck).where(
            FileCheck.signature == signature, FileCheck.file_sha256.in_(sorted(hashes))
        )
        return {row.file_sha256: row.rows for row in self.session.scalars(stmt)}

    def keep(self, dataset: str, signature: str, file_hash: str, rows: list[dict[str, Any]]) -> None:
        try:
            with self.session.begin_nested():  # another check may have kept the same file meanwhile
                self.session.add(
                    FileCheck(dataset=dataset, signature=signature, file_sha256=file_hash, rows=rows)
                )
        except IntegrityError:
            pass
