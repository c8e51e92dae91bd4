"""financing products: bank products routing matches demands against; orders record the matched product

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jinyu.core.db


revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "financing_products",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("bank_id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("min_amount", jinyu.core.db.Money(precision=18, scale=2), nullable=False),
        sa.Column("max_amount", jinyu.core.db.Money(precision=18, scale=2), nullable=False),
        sa.Column("min_term_months", sa.Integer(), nullable=False),
        sa.Column("max_term_months", sa.Integer(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("security_kinds", sa.JSON(), nullable=False),
        sa.Column("industries", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", jinyu.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["organisations.id"], name=op.f("fk_financing_products_bank_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_financing_products")),
        sa.UniqueConstraint("bank_id", "code", name=op.f("uq_financing_products_bank_id")),
    )
    with op.batch_alter_table("financing_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_financing_products_bank_id"), ["bank_id"], unique=False)
    with op.batch_alter_table("financing_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("product_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("product_code", sa.String(length=32), nullable=True))
        batch_op.alter_column(
            "route_rule",
            existing_type=sa.String(length=32),
            type_=sa.String(length=400),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("financing_orders", schema=None) as batch_op:
        batch_op.alter_column(
            "route_rule",
            existing_type=sa.String(length=400),
            type_=sa.String(length=32),
            existing_nullable=False,
        )
        batch_op.drop_column("product_code")
        batch_op.drop_column("product_id")
    with op.batch_alter_table("financing_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_financing_products_bank_id"))
    op.drop_table("financing_products")
