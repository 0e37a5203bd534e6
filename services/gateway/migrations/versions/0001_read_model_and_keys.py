"""The tenant read model and API keys.

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
        "tenants",
        sa.Column("tenant_id", sa.String(63), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("preset", sa.String(20), nullable=True),
        sa.Column("requested_preset", sa.String(20), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("service_requirements", postgresql.JSONB, nullable=False),
        sa.Column("sla_target", postgresql.JSONB, nullable=False),
        sa.Column("spec", postgresql.JSONB, nullable=False),
        sa.Column("resources", postgresql.JSONB, nullable=True),
        sa.Column("cpu_limit", sa.String(50), nullable=True),
        sa.Column("memory_limit", sa.String(50), nullable=True),
        sa.Column("gpu_limit", sa.Integer, nullable=True),
        sa.Column("storage_limit", sa.String(50), nullable=True),
        sa.Column("gpu_type", sa.String(50), nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("sized_revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status_revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        schema="gateway",
    )
    op.create_index("ix_tenants_status", "tenants", ["status"], schema="gateway")
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("mode", sa.String(10), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_table("api_keys", schema="gateway")
    op.drop_table("tenants", schema="gateway")
