"""The gateway's tables (schema `gateway`): the tenant read model and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

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


async def get_tenant(session: AsyncSession, tenant_id: str, *, for_update: bool = False) -> TenantRow | None:
    statement = select(TenantRow).where(TenantRow.tenant_id == tenant_id)  # type: ignore[arg-type]
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def live_tenant(session: AsyncSession, tenant_id: str) -> TenantRow | None:
    row = await get_tenant(session, tenant_id)
    return row if row is not None and row.is_live else None


async def list_tenants(
    session: AsyncSession, *, skip: int, limit: int, status: str | None, preset: str | None
) -> tuple[list[TenantRow], int, int]:
    """A page of live tenants, the count matching the filters, and how many are running."""
    live = TenantRow.deleted_at.is_(None)  # type: ignore[union-attr]
    filters = [live]
    if status:
        filters.append(TenantRow.status == status)  # type: ignore[arg-type]
    if preset:
        filters.append(TenantRow.preset == preset)  # type: ignore[arg-type]
    page = await session.execute(
        select(TenantRow).where(*filters).order_by(TenantRow.created_at, TenantRow.tenant_id)  # type: ignore[arg-type]
        .offset(skip).limit(limit)
    )
    total = await session.execute(select(func.count()).select_from(TenantRow).where(*filters))
    running = await session.execute(
        select(func.count()).select_from(TenantRow).where(*filters, TenantRow.status == "running")  # type: ignore[arg-type]
    )
    return list(page.scalars()), int(total.scalar_one()), int(running.scalar_one())


async def find_key(session: AsyncSession, key_hash: str) -> ApiKeyRow | None:
    result = await session.execute(
        select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash, ApiKeyRow.revoked_at.is_(None))  # type: ignore[arg-type, union-attr]
    )
    return result.scalar_one_or_none()


async def count_admin_keys(session: AsyncSession) -> int:
    result = await session.execute(
        select(func.count()).select_from(ApiKeyRow).where(
            ApiKeyRow.role == "admin", ApiKeyRow.revoked_at.is_(None)  # type: ignore[arg-type, union-attr]
        )
    )
    return int(result.scalar_one())


async def list_keys(session: AsyncSession) -> list[ApiKeyRow]:
    return list((await session.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at))).scalars())  # type: ignore[arg-type]
