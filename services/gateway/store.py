"""The gateway's tables (schema `gateway`): the tenant read model and API keys.

What every new tenant's way runs (its creation, the settling of its request, the projection of
its events) is SQL on the driver's connection (`Databases.connection`, `.transaction`): through an
ORM session each statement costs two to three times the CPU. Operators' queries use the ORM."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import Column, ColumnElement, DateTime, func, inspect, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from shared.db import column_list, json_columns, loaded, parameters, placeholders

SCHEMA = "gateway"


class TenantRow(SQLModel, table=True):
    __tablename__ = "tenants"
    __table_args__ = {"schema": SCHEMA}

    tenant_id: str = Field(primary_key=True, max_length=63)
    name: str
    preset: str | None = None
    requested_preset: str | None = None
    status: str
    service_requirements: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    sla_target: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    spec: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    resources: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    cpu_limit: str | None = None
    memory_limit: str | None = None
    gpu_limit: int | None = None
    storage_limit: str | None = None
    gpu_type: str | None = None
    revision: int
    sized_revision: int = 0
    # The highest revision the calculator has answered (sized, rejected or deleted).
    settled_revision: int = 0
    requested_spec: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSONB, nullable=True)
    )
    status_revision: int = 0
    last_error: str | None = None
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

    @property
    def is_live(self) -> bool:
        return self.deleted_at is None


class ApiKeyRow(SQLModel, table=True):
    __tablename__ = "api_keys"
    __table_args__ = {"schema": SCHEMA}

    key_id: str = Field(primary_key=True, max_length=16)
    name: str
    key_hash: str = Field(unique=True)
    role: str
    mode: str | None = None
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


async def get_tenant(
    session: AsyncSession, tenant_id: str, *, for_update: bool = False
) -> TenantRow | None:
    statement = select(TenantRow).where(col(TenantRow.tenant_id) == tenant_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


TENANT_COLUMNS = tuple(TenantRow.model_fields)
# The projection never reads a tenant's sizing (some 6 KB of JSON), only replaces it.
PROJECTED_COLUMNS = tuple(name for name in TENANT_COLUMNS if name != "resources")
# What each JSON column's text is cast to in a write: its own type.
JSON_CASTS = {
    name: "jsonb" if isinstance(inspect(TenantRow).columns[name].type, JSONB) else "json"
    for name in json_columns(TenantRow)
}


@dataclass
class ReadTenant:
    """A tenant's row as read, with its version (PostgreSQL's `xmin`: every write of the row
    changes it) and the values read, so that a write sends only the columns that changed (a
    whole row is some 7 KB of JSON for the server to parse again). Changes replace a column's
    value, never change it in place (`projection.apply_event` keeps to that)."""

    row: TenantRow
    version: int
    read: dict[str, Any]

    def changes(self) -> dict[str, Any]:
        return {
            name: value
            for name, before in self.read.items()
            if (value := getattr(self.row, name)) != before
        }


async def tenant_rows(
    conn: asyncpg.Connection,
    tenant_ids: Iterable[str],
    *,
    for_update: bool = False,
    columns: tuple[str, ...] = TENANT_COLUMNS,
) -> dict[str, ReadTenant]:
    """The rows by tenant id, with `columns` read (the others are None in the row: a write
    sends only the columns read, or set since)."""
    lock = " FOR UPDATE" if for_update else ""
    records = await conn.fetch(
        f"SELECT xmin, {', '.join(columns)} FROM {SCHEMA}.tenants"
        f" WHERE tenant_id = any($1::text[]){lock}",
        list(tenant_ids),
    )
    rows = {}
    for record in records:
        values = dict(record)
        version = int(values.pop("xmin"))
        values = {name: values.get(name) for name in TENANT_COLUMNS}
        rows[record["tenant_id"]] = ReadTenant(loaded(TenantRow, values), version, dict(values))
    return rows


async def write_tenant(conn: asyncpg.Connection, tenant: ReadTenant, *, checked: bool) -> bool:
    """Write the columns of a row read that changed since; when `checked`, only if nobody wrote
    the row since it was read. Whether it was written (nothing to write counts as written)."""
    changes = tenant.changes()
    if not changes:
        return True
    names = list(changes)
    # JSON goes as text cast in the statement: a write that finds the row changed since it was
    # read then costs the server no parsing of it (the request and the read model often race
    # to write the same `tenant.sized`, some 6 KB of JSON).
    statement = f"UPDATE {SCHEMA}.tenants SET " + ", ".join(
        f"{name} = ${n}::text::{JSON_CASTS[name]}" if name in JSON_CASTS else f"{name} = ${n}"
        for n, name in enumerate(names, start=2)
    )
    values = [tenant.row.tenant_id, *parameters(TenantRow, changes)]
    if checked:
        statement += f" WHERE tenant_id = $1 AND xmin = ${len(values) + 1}"
        values.append(tenant.version)
    else:
        statement += " WHERE tenant_id = $1"
    version = await conn.fetchval(statement + " RETURNING xmin", *values)
    if version is None:
        return False
    tenant.version = int(version)
    tenant.read.update(changes)
    return True


async def add_tenant(
    conn: asyncpg.Connection, tenant_id: str, revision: int, values: dict[str, Any]
) -> bool:
    """Insert the tenant unless its id is taken (live or deleted): whether it was inserted."""
    columns = ["tenant_id", "revision", *values]
    inserted = await conn.fetchval(
        f"INSERT INTO {SCHEMA}.tenants ({', '.join(columns)})"
        f" VALUES ({placeholders(len(columns))})"
        " ON CONFLICT (tenant_id) DO NOTHING RETURNING tenant_id",
        tenant_id,
        revision,
        *parameters(TenantRow, values),
    )
    return inserted is not None


async def set_deployment_status(
    conn: asyncpg.Connection, tenant_id: str, status: str, revision: int, error: str | None
) -> None:
    """The rule of `projection.apply_event` for a deployment event, as one UPDATE: a live
    tenant's status moves to a revision's outcome unless a newer revision has reported."""
    await conn.execute(
        f"""UPDATE {SCHEMA}.tenants SET status = $2, status_revision = $3, updated_at = $4,
          last_error = coalesce($5, last_error)
        WHERE tenant_id = $1 AND deleted_at IS NULL AND status_revision <= $3
          AND NOT (status = $2 AND status_revision = $3)""",
        tenant_id,
        status,
        revision,
        datetime.now(UTC),
        error,
    )


async def is_live(conn: asyncpg.Connection, tenant_id: str) -> bool:
    """Whether the tenant exists and is not deleted: a fifth of the CPU of `live_tenant`."""
    found = await conn.fetchval(
        f"SELECT true FROM {SCHEMA}.tenants WHERE tenant_id = $1 AND deleted_at IS NULL",
        tenant_id,
    )
    return found is not None


async def live_tenant(session: AsyncSession, tenant_id: str) -> TenantRow | None:
    row = await get_tenant(session, tenant_id)
    return row if row is not None and row.is_live else None


async def list_tenants(
    session: AsyncSession, *, skip: int, limit: int, status: str | None, preset: str | None
) -> tuple[list[TenantRow], int, int]:
    """A page of live tenants, the count matching the filters, and how many are running."""
    live = col(TenantRow.deleted_at).is_(None)
    filters: list[ColumnElement[bool]] = [live]
    if status:
        filters.append(col(TenantRow.status) == status)
    if preset:
        filters.append(col(TenantRow.preset) == preset)
    page = await session.execute(
        select(TenantRow)
        .where(*filters)
        .order_by(col(TenantRow.created_at), col(TenantRow.tenant_id))
        .offset(skip)
        .limit(limit)
    )
    total = await session.execute(select(func.count()).select_from(TenantRow).where(*filters))
    running = await session.execute(
        select(func.count())
        .select_from(TenantRow)
        .where(*filters, col(TenantRow.status) == "running")
    )
    return list(page.scalars()), int(total.scalar_one()), int(running.scalar_one())


async def find_key(conn: asyncpg.Connection, key_hash: str) -> ApiKeyRow | None:
    """The key's row unless revoked. Every request with a key asks: one driver statement, a
    fifth of the CPU of the same query through an ORM session."""
    record = await conn.fetchrow(
        f"SELECT {column_list(ApiKeyRow)} FROM {SCHEMA}.api_keys"
        " WHERE key_hash = $1 AND revoked_at IS NULL",
        key_hash,
    )
    return loaded(ApiKeyRow, record) if record else None


async def count_admin_keys(session: AsyncSession) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(ApiKeyRow)
        .where(
            col(ApiKeyRow.role) == "admin",
            col(ApiKeyRow.revoked_at).is_(None),
        )
    )
    return int(result.scalar_one())


async def list_keys(session: AsyncSession) -> list[ApiKeyRow]:
    return list(
        (await session.execute(select(ApiKeyRow).order_by(col(ApiKeyRow.created_at)))).scalars()
    )
