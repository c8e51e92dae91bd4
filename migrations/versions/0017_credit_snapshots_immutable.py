"""credit card snapshots are immutable in the database too: triggers refuse UPDATE and DELETE (and TRUNCATE)

The repository has no update or delete path; these triggers make the store itself refuse one, so a script, a
console or a future code path cannot rewrite a version a bank has cited. PostgreSQL: a PL/pgSQL function
raised by row triggers on UPDATE/DELETE and a statement trigger on TRUNCATE. SQLite: RAISE(ABORT) triggers.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MESSAGE = "credit_card_snapshots are immutable / 名片快照不可修改或删除"

_PG_UP = (
    f"""
    CREATE OR REPLACE FUNCTION credit_card_snapshots_immutable() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_MESSAGE} (%)', TG_OP USING ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    """
    CREATE TRIGGER credit_card_snapshots_no_change BEFORE UPDATE OR DELETE ON credit_card_snapshots
    FOR EACH ROW EXECUTE FUNCTION credit_card_snapshots_immutable()
    """,
    """
    CREATE TRIGGER credit_card_snapshots_no_truncate BEFORE TRUNCATE ON credit_card_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION credit_card_snapshots_immutable()
    """,
)
_PG_DOWN = (
    "DROP TRIGGER IF EXISTS credit_card_snapshots_no_truncate ON credit_card_snapshots",
    "DROP TRIGGER IF EXISTS credit_card_snapshots_no_change ON credit_card_snapshots",
    "DROP FUNCTION IF EXISTS credit_card_snapshots_immutable()",
)
_SQLITE_UP = tuple(
    f"""
    CREATE TRIGGER credit_card_snapshots_no_{op_name.lower()} BEFORE {op_name} ON credit_card_snapshots
    BEGIN SELECT RAISE(ABORT, '{_MESSAGE} ({op_name})'); END
    """
    for op_name in ("UPDATE", "DELETE")
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS credit_card_snapshots_no_update",
    "DROP TRIGGER IF EXISTS credit_card_snapshots_no_delete",
)


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run(_PG_UP)
    else:
        _run(_SQLITE_UP)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run(_PG_DOWN)
    else:
        _run(_SQLITE_DOWN)
