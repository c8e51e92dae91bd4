"""audit token aliases: older-version pseudonyms named in the (never rewritten) audit trail, with their
current-version equivalent, so search by a current token finds entries written before a key rotation

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_token_aliases",
        sa.Column("old_token", sa.String(length=40), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("old_token", name=op.f("pk_audit_token_aliases")),
    )
    op.create_index(op.f("ix_audit_token_aliases_token"), "audit_token_aliases", ["token"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_token_aliases_token"), table_name="audit_token_aliases")
    op.drop_table("audit_token_aliases")
