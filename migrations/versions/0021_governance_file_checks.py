"""governance file checks: each lake file's check counts under a check signature, and lake files' content
hashes, so a check after a load scans only the files it has not seen

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 23:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "governance_lake_file_hashes",
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_governance_lake_file_hashes")),
    )
    op.create_table(
        "governance_file_checks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_file_checks")),
        sa.UniqueConstraint(
            "signature", "file_sha256", name=op.f("uq_governance_file_checks_signature")
        ),
    )
    op.create_index(
        op.f("ix_governance_file_checks_dataset"), "governance_file_checks", ["dataset"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_governance_file_checks_dataset"), table_name="governance_file_checks")
    op.drop_table("governance_file_checks")
    op.drop_table("governance_lake_file_hashes")
