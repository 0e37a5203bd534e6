"""The YAML text is made from the stored objects when asked for, not stored beside them.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("manifests", "yaml_text", schema="manifest")
    op.drop_column("manifests", "monitored_yaml_text", schema="manifest")


def downgrade() -> None:
    for column in ("yaml_text", "monitored_yaml_text"):
        op.add_column(
            "manifests",
            sa.Column(column, sa.Text, nullable=False, server_default=""),
            schema="manifest",
        )
