"""joint modelling on the platform: jobs declared by the regulator, accepted and reported by their bank, and the
model versions they registered

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jinyu.core.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "joint_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("guest_org_id", sa.String(length=32), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("spec_sha256", sa.String(length=64), nullable=False),
        sa.Column("regulator_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("declared_by", sa.String(length=64), nullable=False),
        sa.Column("declared_at", jinyu.core.db.UTCDateTime(), nullable=False),
        sa.Column("guest_key", sa.String(length=64), nullable=True),
        sa.Column("acceptance", sa.JSON(), nullable=True),
        sa.Column("accepted_by", sa.String(length=64), nullable=True),
        sa.Column("accepted_at", jinyu.core.db.UTCDateTime(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("reported_at", jinyu.core.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_jobs")),
        sa.UniqueConstraint("job_id", name=op.f("uq_joint_jobs_job_id")),
    )
    op.create_index(op.f("ix_joint_jobs_guest_org_id"), "joint_jobs", ["guest_org_id"], unique=False)
    op.create_index(op.f("ix_joint_jobs_model_name"), "joint_jobs", ["model_name"], unique=False)
    op.create_table(
        "joint_models",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("guest_org_id", sa.String(length=32), nullable=False),
        sa.Column("data_snapshot", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("registered_at", jinyu.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["joint_jobs.job_id"], name=op.f("fk_joint_models_job_id_joint_jobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_models")),
        sa.UniqueConstraint("job_id", name=op.f("uq_joint_models_job_id")),
        sa.UniqueConstraint(
            "guest_org_id", "model_name", "version", name=op.f("uq_joint_models_guest_org_id")
        ),
    )
    op.create_index(op.f("ix_joint_models_guest_org_id"), "joint_models", ["guest_org_id"], unique=False)
    op.create_index(op.f("ix_joint_models_model_name"), "joint_models", ["model_name"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_joint_models_model_name"), table_name="joint_models")
    op.drop_index(op.f("ix_joint_models_guest_org_id"), table_name="joint_models")
    op.drop_table("joint_models")
    op.drop_index(op.f("ix_joint_jobs_model_name"), table_name="joint_jobs")
    op.drop_index(op.f("ix_joint_jobs_guest_org_id"), table_name="joint_jobs")
    op.drop_table("joint_jobs")
