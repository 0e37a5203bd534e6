"""Tenant specs and their sizing, one row per revision.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_revisions",
        sa.Column("tenant_id", sa.String(63), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("spec", postgresql.JSONB, nullable=False),
        sa.Column("sizing", postgresql.JSONB, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        schema="calculator",
    )
    op.create_table(
        "deleted_tenants",
        sa.Column("tenant_id", sa.String(63), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        schema="calculator",
    )


def downgrade() -> None:
    op.drop_table("deleted_tenants", schema="calculator")
    op.drop_table("tenant_revisions", schema="calculator")
