"""Rendered manifests by revision, the tenant specs they were named from, deletions.

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
        "tenant_specs",
        sa.Column("tenant_id", sa.String(63), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("auto_deploy", sa.Boolean, nullable=True),
        schema="manifest",
    )
    op.create_table(
        "manifests",
        sa.Column("tenant_id", sa.String(63), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("preset", sa.String, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("monitored_content_hash", sa.String(64), nullable=False),
        # json, not jsonb: the key order of the rendered objects is kept byte for byte.
        sa.Column("objects", sa.JSON, nullable=False),
        sa.Column("monitored_objects", sa.JSON, nullable=False),
        sa.Column("yaml_text", sa.Text, nullable=False),
        sa.Column("monitored_yaml_text", sa.Text, nullable=False),
        sa.Column("object_counts", postgresql.JSONB, nullable=False),
        sa.Column("source", postgresql.JSONB, nullable=False),
        sa.Column("auto_deploy", sa.Boolean, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        schema="manifest",
    )
    op.create_table(
        "deleted_tenants",
        sa.Column("tenant_id", sa.String(63), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        schema="manifest",
    )


def downgrade() -> None:
    op.drop_table("deleted_tenants", schema="manifest")
    op.drop_table("manifests", schema="manifest")
    op.drop_table("tenant_specs", schema="manifest")
