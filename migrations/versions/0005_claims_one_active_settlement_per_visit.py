"""claims: one active settlement per hospital visit (unless the product allows interim settlements)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 02:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = sa.text("status IN ('pending', 'settled') AND NOT interim")


def upgrade() -> None:
    with op.batch_alter_table("claim_settlements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("interim", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("claim_settlements", schema=None) as batch_op:
        batch_op.alter_column("interim", existing_type=sa.Boolean(), server_default=None)
    twice = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT hospital_id, mdtrt_id FROM claim_settlements WHERE status IN ('pending', 'settled') "
                "GROUP BY hospital_id, mdtrt_id HAVING count(*) > 1"
            )
        )
        .all()
    )
    if twice:
        raise RuntimeError(
            f"{len(twice)} 个就诊有多笔有效结算，须先人工撤销多余的结算 / {len(twice)} visit(s) have more than "
            "one pending or settled settlement (hospital_id, mdtrt_id): cancel the extra ones first, e.g. "
            + ", ".join(f"({h}, {m})" for h, m in twice[:5])
        )
    with op.batch_alter_table("claim_settlements", schema=None) as batch_op:
        batch_op.create_index(
            "uq_claim_settlements_active_visit",
            ["hospital_id", "mdtrt_id"],
            unique=True,
            postgresql_where=_ACTIVE,
            sqlite_where=_ACTIVE,
        )


def downgrade() -> None:
    with op.batch_alter_table("claim_settlements", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_claim_settlements_active_visit", postgresql_where=_ACTIVE, sqlite_where=_ACTIVE
        )
        batch_op.drop_column("interim")
