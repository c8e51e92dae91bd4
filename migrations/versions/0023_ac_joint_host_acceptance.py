"""joint modelling: the hub's (host party's) signed acceptance of a job, beside the bank's

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jinyu.core.db

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("joint_jobs") as batch:
        batch.add_column(sa.Column("host_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("host_acceptance", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("host_accepted_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("host_accepted_at", jinyu.core.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("joint_jobs") as batch:
        batch.drop_column("host_accepted_at")
        batch.drop_column("host_accepted_by")
        batch.drop_column("host_acceptance")
        batch.drop_column("host_key")
