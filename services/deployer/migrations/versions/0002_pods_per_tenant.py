"""The virtual cluster's pods in one row per tenant, so a placement writes only its tenant's pods.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "deployer"


def upgrade() -> None:
    op.create_table(
        "virtual_pods",
        sa.Column("tenant_id", sa.String(63), primary_key=True),
        sa.Column("pods", postgresql.JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.execute(
        f"INSERT INTO {SCHEMA}.virtual_pods (tenant_id, pods, updated_at)"
        " SELECT pod->>'tenant_id', jsonb_agg(pod), now()"
        f" FROM {SCHEMA}.cluster_state, jsonb_array_elements(state->'pods') AS pod"
        " GROUP BY pod->>'tenant_id'"
    )
    op.execute(f"UPDATE {SCHEMA}.cluster_state SET state = state - 'pods'")


def downgrade() -> None:
    op.execute(
        f"UPDATE {SCHEMA}.cluster_state SET state = state || jsonb_build_object('pods',"
        f" (SELECT coalesce(jsonb_agg(pod), '[]'::jsonb) FROM {SCHEMA}.virtual_pods,"
        " jsonb_array_elements(pods) AS pod))"
    )
    op.drop_table("virtual_pods", schema=SCHEMA)
