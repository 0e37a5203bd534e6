"""Alembic, run programmatically: each service upgrades its own schema at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(schema: str, script_location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["schema"] = schema
    return config


async def upgrade_schema(engine: AsyncEngine, schema: str, script_location: Path) -> None:
    config = alembic_config(schema, script_location)
    async with engine.begin() as conn:
        # Replicas starting together must not run the same migration twice.
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:schema))"), {"schema": schema}
        )
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.run_sync(_upgrade, config)


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def run_migrations(context: Any) -> None:
    """The body of every service's `migrations/env.py`."""
    config = context.config
    schema = config.attributes["schema"]
    context.configure(
        connection=config.attributes["connection"],
        version_table_schema=schema,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()
