"""Manifests received, deployments, tenants' applied inventory, the virtual cluster.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "deployer"


def upgrade() -> None:
    op.create_table(
        "manifests",
        sa.Column("tenant_id", sa.String(63), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("content_hash", sa.String, nullable=False),
        sa.Column("objects", postgresql.JSONB, nullable=False),
        sa.Column("auto_deploy", sa.Boolean, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "deployments",
        sa.Column("deployment_id", sa.String(120), primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("manifest_revision", sa.Integer, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("reason", sa.String, nullable=False),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("error", sa.String, nullable=True),
        sa.Column("step", sa.String, nullable=False, server_default=""),
        sa.Column("objects", postgresql.JSONB, nullable=False),
        sa.Column("placement", postgresql.JSONB, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        schema=SCHEMA,
    )
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.String(63), primary_key=True),
        sa.Column("applied_revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("deleted_revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("current_deployment_id", sa.String(120), nullable=True),
        sa.Column("inventory", postgresql.JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "cluster_state",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("state", postgresql.JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in ("cluster_state", "tenants", "deployments", "manifests"):
        op.drop_table(table, schema=SCHEMA)
