"""The manifest service's tables (schema `manifest`): rendered manifests, one row per revision.

The queries are SQL on the driver's connection (`Databases.connection`): every sized tenant runs
them, and through an ORM session each would cost two to three times the CPU."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import JSON, Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import column_list, loaded, placeholders, row_values

SCHEMA = "manifest"


class TenantSpecSeen(SQLModel, table=True):
    """The name and auto-deploy setting that versions before `tenant.sized` carried them stored
    from `tenant.accepted`: read only for a `tenant.sized` without them. Nothing writes it now."""

    __tablename__ = "tenant_specs"
    __table_args__ = {"schema": SCHEMA}

    tenant_id: str = Field(primary_key=True, max_length=63)
    revision: int = Field(primary_key=True)
    name: str
    auto_deploy: bool | None = None


class ManifestRow(SQLModel, table=True):
    """One rendered revision. The object lists are `json`, not `jsonb`, so their key order (and
    thus the YAML served from them) is exactly what the renderer produced."""

    __tablename__ = "manifests"
    __table_args__ = {"schema": SCHEMA}

    tenant_id: str = Field(primary_key=True, max_length=63)
    revision: int = Field(primary_key=True)
    name: str
    preset: str
    content_hash: str
    monitored_content_hash: str
    objects: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    monitored_objects: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    # YAML is slow to emit (tens of ms for a large tenant): emitted once, served as stored.
    object_counts: dict[str, int] = Field(sa_column=Column(JSONB, nullable=False))
    source: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))  # the render input
    auto_deploy: bool | None = None
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class DeletedTenant(SQLModel, table=True):
    __tablename__ = "deleted_tenants"
    __table_args__ = {"schema": SCHEMA}

    tenant_id: str = Field(primary_key=True, max_length=63)
    revision: int
    deleted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


MANIFEST_COLUMNS = column_list(ManifestRow)


async def spec_for(
    conn: asyncpg.Connection, tenant_id: str, revision: int
) -> TenantSpecSeen | None:
    """The spec of this revision, else the newest earlier one (a name rarely changes)."""
    record = await conn.fetchrow(
        f"SELECT tenant_id, revision, name, auto_deploy FROM {SCHEMA}.tenant_specs"
        " WHERE tenant_id = $1 AND revision <= $2 ORDER BY revision DESC LIMIT 1",
        tenant_id,
        revision,
    )
    return loaded(TenantSpecSeen, record) if record else None


async def save_manifest(conn: asyncpg.Connection, row: ManifestRow) -> None:
    """Insert once; a second insert of the same revision (another replica) changes nothing."""
    await conn.execute(
        f"INSERT INTO {SCHEMA}.manifests ({MANIFEST_COLUMNS})"
        f" VALUES ({placeholders(len(ManifestRow.model_fields))}) ON CONFLICT DO NOTHING",
        *row_values(row),
    )


async def _manifests(conn: asyncpg.Connection, where: str, *arguments: Any) -> list[ManifestRow]:
    records = await conn.fetch(
        f"SELECT {MANIFEST_COLUMNS} FROM {SCHEMA}.manifests WHERE {where}", *arguments
    )
    return [loaded(ManifestRow, record) for record in records]


async def get_manifest(
    conn: asyncpg.Connection, tenant_id: str, revision: int
) -> ManifestRow | None:
    rows = await _manifests(conn, "tenant_id = $1 AND revision = $2", tenant_id, revision)
    return rows[0] if rows else None


async def live_manifest(
    conn: asyncpg.Connection, tenant_id: str, revision: int | None = None
) -> ManifestRow | None:
    """The given revision, or the newest, of a tenant that is not deleted."""
    rows = await _manifests(
        conn,
        "tenant_id = $1 AND deleted_at IS NULL AND ($2::integer IS NULL OR revision = $2)"
        " ORDER BY revision DESC LIMIT 1",
        tenant_id,
        revision,
    )
    return rows[0] if rows else None


async def live_revisions(conn: asyncpg.Connection, tenant_id: str) -> list[ManifestRow]:
    return await _manifests(
        conn, "tenant_id = $1 AND deleted_at IS NULL ORDER BY revision", tenant_id
    )


async def revisions(conn: asyncpg.Connection, tenant_id: str) -> tuple[int, int]:
    """(the revision at which the tenant was last deleted, its newest stored revision), 0 for
    none: in one round trip, without reading any manifest's objects."""
    record = await conn.fetchrow(
        f"""SELECT
          coalesce((SELECT revision FROM {SCHEMA}.deleted_tenants WHERE tenant_id = $1), 0),
          coalesce((SELECT max(revision) FROM {SCHEMA}.manifests WHERE tenant_id = $1), 0)""",
        tenant_id,
    )
    assert record is not None
    return int(record[0]), int(record[1])


async def mark_deleted(
    conn: asyncpg.Connection, tenant_id: str, revision: int, at: datetime
) -> None:
    """Every manifest made before the delete is kept for audit but no longer served."""
    await conn.execute(
        f"UPDATE {SCHEMA}.manifests SET deleted_at = $3"
        " WHERE tenant_id = $1 AND revision < $2 AND deleted_at IS NULL",
        tenant_id,
        revision,
        at,
    )
    await conn.execute(
        f"""INSERT INTO {SCHEMA}.deleted_tenants (tenant_id, revision, deleted_at)
        VALUES ($1, $2, $3) ON CONFLICT (tenant_id)
        DO UPDATE SET revision = excluded.revision, deleted_at = excluded.deleted_at
        WHERE {SCHEMA}.deleted_tenants.revision < excluded.revision""",
        tenant_id,
        revision,
        at,
    )
