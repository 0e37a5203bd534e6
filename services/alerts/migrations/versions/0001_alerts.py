"""Rules, rule state, history, silences, the notification outbox and its attempts.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "alerts"


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "rules",
        sa.Column("rule_id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("alert_name", sa.String, nullable=False),
        sa.Column("body", postgresql.JSONB, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.UniqueConstraint("tenant_id", "alert_name"),
        schema=S,
    )
    op.create_table(
        "rule_states",
        sa.Column("rule_id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("state", postgresql.JSONB, nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("repeat", sa.Integer, nullable=False),
        _at("last_notified_at", nullable=True),
        _at("updated_at"),
        schema=S,
    )
    op.create_table(
        "history",
        _id(),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("rule_id", sa.String, nullable=False),
        sa.Column("alert_name", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("fingerprint", sa.String, nullable=False),
        sa.Column("condition", sa.String, nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("labels", postgresql.JSONB, nullable=False),
        _at("at"),
        _at("active_since", nullable=True),
        _at("fired_at", nullable=True),
        _at("published_at", nullable=True),
        sa.UniqueConstraint("rule_id", "sequence", "status"),
        schema=S,
    )
    op.create_table(
        "notifications",
        _id(),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("rule_id", sa.String, nullable=False),
        sa.Column("alert_name", sa.String, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("repeat", sa.Integer, nullable=False),
        sa.Column("action_index", sa.Integer, nullable=False),
        sa.Column("action_type", sa.String, nullable=False),
        sa.Column("target", sa.String, nullable=False),
        sa.Column("action", postgresql.JSONB, nullable=False),
        sa.Column("payload", postgresql.JSONB, nullable=False),
        sa.Column("state", sa.String, nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        _at("next_attempt_at"),
        sa.Column("last_error", sa.String, nullable=True),
        sa.Column("silence_id", sa.String, nullable=True),
        _at("created_at"),
        _at("delivered_at", nullable=True),
        sa.UniqueConstraint("rule_id", "sequence", "status", "repeat", "action_index"),
        schema=S,
    )
    # The delivery loop's query: due pending rows, oldest first.
    op.create_index(
        "notifications_due",
        "notifications",
        ["next_attempt_at"],
        schema=S,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_table(
        "notification_attempts",
        _id(),
        sa.Column("notification_id", sa.BigInteger, nullable=False, index=True),
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        _at("at"),
        sa.Column("outcome", sa.String, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.String, nullable=True),
        sa.Column("duration_ms", sa.Float, nullable=False),
        schema=S,
    )
    op.create_table(
        "silences",
        sa.Column("silence_id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(63), nullable=False, index=True),
        sa.Column("matchers", postgresql.JSONB, nullable=False),
        _at("starts_at"),
        _at("ends_at"),
        sa.Column("comment", sa.String, nullable=False),
        sa.Column("created_by", sa.String, nullable=False),
        _at("created_at"),
        schema=S,
    )


def downgrade() -> None:
    for table in (
        "silences",
        "notification_attempts",
        "notifications",
        "history",
        "rule_states",
        "rules",
    ):
        op.drop_table(table, schema=S)
