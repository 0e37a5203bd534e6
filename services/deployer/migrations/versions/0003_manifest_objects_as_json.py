"""A manifest's objects as `json`, not `jsonb`: they are stored and read back whole, never queried
inside, and parsing 20 KB into `jsonb` and compressing it cost the server some 0.5 ms of CPU per
deployment. `json` also keeps the key order the manifest service rendered.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "deployer"


def upgrade() -> None:
    op.alter_column(
        "manifests",
        "objects",
        type_=sa.JSON,
        postgresql_using="objects::json",
        existing_nullable=False,
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.alter_column(
        "manifests",
        "objects",
        type_=postgresql.JSONB,
        postgresql_using="objects::jsonb",
        existing_nullable=False,
        schema=SCHEMA,
    )
