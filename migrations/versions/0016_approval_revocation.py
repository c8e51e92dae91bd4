"""level approvals can be revoked before they end: when, by whom and why

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jinyu.core.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("policy_level_approvals") as batch:
        batch.add_column(sa.Column("revoked_at", jinyu.core.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("revoked_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("revoke_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("policy_level_approvals") as batch:
        batch.drop_column("revoke_reason")
        batch.drop_column("revoked_by")
        batch.drop_column("revoked_at")
