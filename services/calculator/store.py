"""The calculator's tables (schema `calculator`): every revision of a tenant's spec and its sizing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, delete, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

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


async def revisions(session: AsyncSession, tenant_id: str) -> tuple[int, int]:
    """(the tenant's newest stored revision, the revision at which it was last deleted), 0 for
    none: in one round trip, without reading any spec or sizing."""
    newest = select(func.max(col(TenantRevision.revision))).where(
        col(TenantRevision.tenant_id) == tenant_id
    )
    deleted = select(col(DeletedTenant.revision)).where(col(DeletedTenant.tenant_id) == tenant_id)
    row = (
        await session.execute(
            select(
                func.coalesce(newest.scalar_subquery(), 0),
                func.coalesce(deleted.scalar_subquery(), 0),
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def get_revision(
    session: AsyncSession, tenant_id: str, revision: int
) -> TenantRevision | None:
    return await session.get(TenantRevision, (tenant_id, revision))


async def deleted_revision(session: AsyncSession, tenant_id: str) -> int:
    """The revision at which the tenant was last deleted, 0 if never."""
    row = await session.get(DeletedTenant, tenant_id)
    return row.revision if row else 0


async def delete_tenant(session: AsyncSession, tenant_id: str, revision: int, at: datetime) -> None:
    await session.execute(
        delete(TenantRevision).where(TenantRevision.tenant_id == tenant_id)  # type: ignore[arg-type]
    )
    await session.merge(DeletedTenant(tenant_id=tenant_id, revision=revision, deleted_at=at))


async def count_tenants(session: AsyncSession) -> int:
    result = await session.execute(select(func.count(func.distinct(TenantRevision.tenant_id))))
    return int(result.scalar_one())
