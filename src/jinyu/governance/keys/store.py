"""Re-tokenizing the operational store: every column tagged `core.db.PSEUDONYM`, found through the metadata."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from jinyu.core.privacy import advance, token_version
from jinyu.core.pseudokeys import Keyring


def pseudonym_columns(metadata: MetaData) -> list[tuple[Table, Column[str]]]:
    """(table, column) of every stored pseudonym; `metadata` must know every domain's tables (`jinyu.models`)."""
    return [
        (table, column)
        for table in metadata.sorted_tables
        for column in table.columns
        if column.info.get("pseudonym")
    ]


def _older(session: Session, column: Column[str], target: int) -> dict[str, int]:
    """Distinct tokens of the column older than `target`, with their row counts."""
    rows = session.execute(select(column, func.count()).where(column.is_not(None)).group_by(column))
    return {v: n for v, n in rows if (version := token_version(v)) is not None and version < target}


def count_older(session: Session, metadata: MetaData, target: int) -> dict[str, int]:
    """Rows per `table.column` that a rotation to `target` rewrites (the dry run's figure)."""
    return {
        f"{t.name}.{c.name}": sum(_older(session, c, target).values()) for t, c in pseudonym_columns(metadata)
    }


def rewrite(session: Session, metadata: MetaData, ring: Keyring, target: int) -> dict[str, int]:
    """Carry every older token to `target`, in the caller's transaction; rows changed per column.

    Rows are updated by primary key (token columns are mostly not indexed: matching by old value scanned the
    table once per distinct token). Idempotent: tokens already at `target` are not touched, so a re-run after
    a crash changes nothing twice. The mapping is one-to-one, so unique constraints over a token column hold."""
    changed = {}
    for table, column in pseudonym_columns(metadata):
        keys = list(table.primary_key.columns)
        rows = session.execute(select(*keys, column).where(column.is_not(None))).all()
        moves = []
        for row in rows:
            token = row[-1]
            version = token_version(token)
            if version is not None and version < target:
                moves.append(
                    {
                        **{f"k_{k.name}": v for k, v in zip(keys, row, strict=False)},
                        "new": advance(ring, token, target),
                    }
                )
        if moves:
            where = [k == bindparam(f"k_{k.name}") for k in keys]
            stmt = update(table).where(*where).values({column.name: bindparam("new")})
            session.connection().execute(stmt, moves)
        changed[f"{table.name}.{column.name}"] = len(moves)
    return changed
