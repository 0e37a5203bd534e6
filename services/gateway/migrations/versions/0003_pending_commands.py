"""What a tenant command asked for, kept until the calculator settles it, so a command the
gateway stored but did not get to publish (a crash in between) is sent again.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tenants", sa.Column("requested_spec", postgresql.JSONB, nullable=True), schema="gateway"
    )
    op.add_column(
        "tenants",
        sa.Column("settled_revision", sa.Integer, nullable=False, server_default="0"),
        schema="gateway",
    )
    op.execute("UPDATE gateway.tenants SET settled_revision = sized_revision")
    op.create_index(
        "ix_tenants_unsettled",
        "tenants",
        ["updated_at"],
        schema="gateway",
        postgresql_where=sa.text("deleted_at IS NULL AND revision > settled_revision"),
    )


def downgrade() -> None:
    op.drop_index("ix_tenants_unsettled", table_name="tenants", schema="gateway")
    op.drop_column("tenants", "settled_revision", schema="gateway")
    op.drop_column("tenants", "requested_spec", schema="gateway")
