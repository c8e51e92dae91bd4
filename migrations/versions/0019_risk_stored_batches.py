"""stored batch results: a bank's batch check kept whole (summary and rows as JSON) for later listing and
download within the bank

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jinyu.core.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_stored_batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("inquiry_id", sa.String(length=32), nullable=False),
        sa.Column("bank_code", sa.String(length=64), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=False),
        sa.Column("loans", sa.Integer(), nullable=False),
        sa.Column("risky_loans", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("at", jinyu.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_stored_batches")),
    )
    op.create_index(
        "ix_risk_stored_batches_tenant_at", "risk_stored_batches", ["tenant_id", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_risk_stored_batches_tenant_at", table_name="risk_stored_batches")
    op.drop_table("risk_stored_batches")
