"""The calculator's tables (schema `calculator`): every revision of a tenant's spec and its sizing.

The queries are SQL on the driver's connection (`Databases.connection`): every tenant's request
runs them, and through an ORM session each would cost two to three times the CPU."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import column_list, json_text, loaded

SCHEMA = "calculator"


class TenantRevision(SQLModel, table=True):
    __tablename__ = "tenant_revisions"
    __table_args__ = {"schema": SCHEMA}

    tenant_id: str = Field(primary_key=True, max_length=63)
    revision: int = Field(primary_key=True)
    spec: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    sizing: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DeletedTenant(SQLModel, table=True):
    __tablename__ = "deleted_tenants"
    __table_args__ = {"schema": SCHEMA}

    tenant_id: str = Field(primary_key=True, max_length=63)
    revision: int
    deleted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


async def revisions(conn: asyncpg.Connection, tenant_id: str) -> tuple[int, int]:
    """(the tenant's newest stored revision, the revision at which it was last deleted), 0 for
    none: in one round trip, without reading any spec or sizing."""
    record = await conn.fetchrow(
        f"""SELECT
          coalesce((SELECT max(revision) FROM {SCHEMA}.tenant_revisions WHERE tenant_id = $1), 0),
          coalesce((SELECT revision FROM {SCHEMA}.deleted_tenants WHERE tenant_id = $1), 0)""",
        tenant_id,
    )
    assert record is not None
    return int(record[0]), int(record[1])


async def get_revision(
    conn: asyncpg.Connection, tenant_id: str, revision: int
) -> TenantRevision | None:
    record = await conn.fetchrow(
        f"SELECT {column_list(TenantRevision)} FROM {SCHEMA}.tenant_revisions"
        " WHERE tenant_id = $1 AND revision = $2",
        tenant_id,
        revision,
    )
    return loaded(TenantRevision, record) if record else None


async def add_revision(
    conn: asyncpg.Connection,
    tenant_id: str,
    revision: int,
    spec: dict[str, Any],
    sizing: dict[str, Any],
    at: datetime,
) -> None:
    await conn.execute(
        f"INSERT INTO {SCHEMA}.tenant_revisions (tenant_id, revision, spec, sizing, created_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        tenant_id,
        revision,
        json_text(spec),
        json_text(sizing),
        at,
    )


async def deleted_revision(conn: asyncpg.Connection, tenant_id: str) -> int:
    """The revision at which the tenant was last deleted, 0 if never."""
    revision = await conn.fetchval(
        f"SELECT revision FROM {SCHEMA}.deleted_tenants WHERE tenant_id = $1", tenant_id
    )
    return int(revision or 0)


async def delete_tenant(
    conn: asyncpg.Connection, tenant_id: str, revision: int, at: datetime
) -> None:
    await conn.execute(f"DELETE FROM {SCHEMA}.tenant_revisions WHERE tenant_id = $1", tenant_id)
    await conn.execute(
        f"INSERT INTO {SCHEMA}.deleted_tenants (tenant_id, revision, deleted_at)"
        " VALUES ($1, $2, $3) ON CONFLICT (tenant_id)"
        " DO UPDATE SET revision = excluded.revision, deleted_at = excluded.deleted_at",
        tenant_id,
        revision,
        at,
    )
