"""chain definition versions: the regulator's edits of chain definitions and per-enterprise segment overrides,
append-only, one row per version

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jinyu.core.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chain_definition_versions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("chain_code", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", jinyu.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_definition_versions")),
        sa.UniqueConstraint("chain_code", "version", name=op.f("uq_chain_definition_versions_chain_code")),
    )
    op.create_index(
        op.f("ix_chain_definition_versions_chain_code"),
        "chain_definition_versions",
        ["chain_code"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_chain_definition_versions_chain_code"), table_name="chain_definition_versions")
    op.drop_table("chain_definition_versions")
