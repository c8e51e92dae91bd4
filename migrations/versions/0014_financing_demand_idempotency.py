"""financing demand idempotency: Idempotency-Key and request hash, unique per enterprise

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("financing_demands", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_financing_demands_enterprise_id"), ["enterprise_id", "idempotency_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("financing_demands", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_financing_demands_enterprise_id"), type_="unique")
        batch_op.drop_column("request_hash")
        batch_op.drop_column("idempotency_key")
