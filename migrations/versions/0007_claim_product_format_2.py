"""claims, product format 2: settlement visit type, insurance type, psn_no token and BMI deductible paid;
accumulator codes long enough for a later policy year (`code@year`)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 02:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jinyu.core.db


revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Settlements stored before: inpatient (21, the only kind the API took), no BMI deductible reported.
    with op.batch_alter_table("claim_settlements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("med_type", sa.String(length=8), server_default="21", nullable=False))
        batch_op.add_column(sa.Column("insutype", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("psn_token", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column(
                "act_pay_dedc", jinyu.core.db.Money(precision=18, scale=2), server_default="0", nullable=False
            )
        )
    with op.batch_alter_table("claim_accumulators", schema=None) as batch_op:
        batch_op.alter_column(
            "code", existing_type=sa.String(length=64), type_=sa.String(length=72), existing_nullable=False
        )
    with op.batch_alter_table("claim_accumulator_entries", schema=None) as batch_op:
        batch_op.alter_column(
            "code", existing_type=sa.String(length=64), type_=sa.String(length=72), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("claim_accumulator_entries", schema=None) as batch_op:
        batch_op.alter_column(
            "code", existing_type=sa.String(length=72), type_=sa.String(length=64), existing_nullable=False
        )
    with op.batch_alter_table("claim_accumulators", schema=None) as batch_op:
        batch_op.alter_column(
            "code", existing_type=sa.String(length=72), type_=sa.String(length=64), existing_nullable=False
        )
    with op.batch_alter_table("claim_settlements", schema=None) as batch_op:
        batch_op.drop_column("act_pay_dedc")
        batch_op.drop_column("psn_token")
        batch_op.drop_column("insutype")
        batch_op.drop_column("med_type")
