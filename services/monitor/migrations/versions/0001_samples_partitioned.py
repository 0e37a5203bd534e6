"""Samples partitioned by day, the batches already stored, the demo tenants the generator follows.

The daily partitions themselves are created (and dropped) by the monitor at run time.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The seed's `monitoring_data` columns (metric_type, metric_name, metric_value, timestamp),
    # with the tenant id as text and where each sample came from.
    op.execute(
        """
        CREATE TABLE monitor.monitoring_data (
            tenant_id varchar(63) NOT NULL,
            metric_type varchar(63) NOT NULL,
            metric_name varchar(63) NOT NULL,
            metric_value double precision NOT NULL,
            "timestamp" timestamptz NOT NULL,
            labels jsonb,
            source varchar(16) NOT NULL,
            batch_id varchar(200) NOT NULL
        ) PARTITION BY RANGE ("timestamp")
        """
    )
    # The value rides in the index so a dashboard's window is read from it alone (index-only
    # scans once a day's partition is vacuumed), not from rows scattered over the heap.
    op.execute(
        "CREATE INDEX monitoring_data_tenant_metric_time "
        'ON monitor.monitoring_data (tenant_id, metric_name, "timestamp") INCLUDE (metric_value)'
    )
    op.create_table(
        "ingested_batches",
        sa.Column("batch_id", sa.String(200), primary_key=True),
        sa.Column(
            "ingested_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        schema="monitor",
    )
    op.create_index("ingested_batches_time", "ingested_batches", ["ingested_at"], schema="monitor")
    op.create_table(
        "demo_tenants",
        sa.Column("tenant_id", sa.String(63), primary_key=True),
        sa.Column("running", sa.Boolean, nullable=False),
        sa.Column("preset", sa.String, nullable=True),
        sa.Column("cpu_millicores", sa.Integer, nullable=False),
        sa.Column("memory_mib", sa.Integer, nullable=False),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("sized_revision", sa.Integer, nullable=False),
        sa.Column("status_revision", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema="monitor",
    )


def downgrade() -> None:
    op.drop_table("demo_tenants", schema="monitor")
    op.drop_table("ingested_batches", schema="monitor")
    op.execute("DROP TABLE monitor.monitoring_data")
