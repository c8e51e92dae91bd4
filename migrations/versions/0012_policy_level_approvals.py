"""data-security policy: level approvals recorded on consent grants

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jinyu.core.db


revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_level_approvals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("valid_from", jinyu.core.db.UTCDateTime(), nullable=False),
        sa.Column("valid_until", jinyu.core.db.UTCDateTime(), nullable=False),
        sa.Column("policy_version", sa.String(length=32), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        sa.Column("approver_org_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", jinyu.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["approver_org_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["grant_id"], ["consent_grants.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("policy_level_approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_level_approvals_grant_id"), ["grant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("policy_level_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_level_approvals_grant_id"))
    op.drop_table("policy_level_approvals")
