"""The seed's `monitoring_data` table as a read-only view `public.monitoring_data`.

The seed's troubleshooting query (`SELECT tenant_id, metric_type, COUNT(*) FROM monitoring_data
WHERE timestamp > NOW() - INTERVAL '1 hour' GROUP BY ...`) runs unchanged and prunes the daily
partitions by time. `tenant_id` is the tenant's id (text), not the seed's integer key; `id` is a
stable number derived from the sample (samples carry no serial). Writing to the view is refused
with the API to use: a row inserted here would reach neither the live streams nor the alerts.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE VIEW public.monitoring_data AS
        SELECT hashtextextended(
                   d.batch_id || '|' || d.metric_name || '|' || extract(epoch FROM d."timestamp")::text || '|'
                   || COALESCE(d.labels::text, ''), 0) AS id,
               d.tenant_id,
               d.metric_type,
               d.metric_name,
               d.metric_value,
               d."timestamp"
          FROM monitor.monitoring_data d
        """
    )
    op.execute(
        "COMMENT ON VIEW public.monitoring_data IS 'Read-only: samples stored by the monitor. "
        "Push metrics with POST /api/v1/tenants/{tenant_id}/monitoring.'"
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION monitor.refuse_monitoring_data_write() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'monitoring_data is a read-only view: use POST '
                            '/api/v1/tenants/{tenant_id}/monitoring to send metrics'
                USING ERRCODE = 'feature_not_supported',
                      HINT = 'a row written here reaches neither the live streams nor the alerts';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER monitoring_data_read_only INSTEAD OF INSERT OR UPDATE OR DELETE "
        "ON public.monitoring_data FOR EACH ROW "
        "EXECUTE FUNCTION monitor.refuse_monitoring_data_write()"
    )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS public.monitoring_data")
    op.execute("DROP FUNCTION IF EXISTS monitor.refuse_monitoring_data_write()")
