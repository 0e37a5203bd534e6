"""The manifest service's tables (schema `manifest`): rendered manifests, one row per revision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, func, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col, select

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


async def spec_for(session: AsyncSession, tenant_id: str, revision: int) -> TenantSpecSeen | None:
    """The spec of this revision, else the newest earlier one (a name rarely changes)."""
    result = await session.execute(
        select(TenantSpecSeen)
        .where(col(TenantSpecSeen.tenant_id) == tenant_id, col(TenantSpecSeen.revision) <= revision)
        .order_by(col(TenantSpecSeen.revision).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def save_manifest(session: AsyncSession, row: ManifestRow) -> None:
    """Insert once; a second insert of the same revision (another replica) changes nothing."""
    values = {c.name: getattr(row, c.name) for c in ManifestRow.__table__.columns}  # type: ignore[attr-defined]
    await session.execute(insert(ManifestRow).values(**values).on_conflict_do_nothing())


async def get_manifest(session: AsyncSession, tenant_id: str, revision: int) -> ManifestRow | None:
    return await session.get(ManifestRow, (tenant_id, revision))


async def live_manifest(
    session: AsyncSession, tenant_id: str, revision: int | None = None
) -> ManifestRow | None:
    """The given revision, or the newest, of a tenant that is not deleted."""
    statement = select(ManifestRow).where(
        col(ManifestRow.tenant_id) == tenant_id, col(ManifestRow.deleted_at).is_(None)
    )
    if revision is not None:
        statement = statement.where(col(ManifestRow.revision) == revision)
    result = await session.execute(statement.order_by(col(ManifestRow.revision).desc()).limit(1))
    return result.scalar_one_or_none()


async def live_revisions(session: AsyncSession, tenant_id: str) -> list[ManifestRow]:
    result = await session.execute(
        select(ManifestRow)
        .where(col(ManifestRow.tenant_id) == tenant_id, col(ManifestRow.deleted_at).is_(None))
        .order_by(col(ManifestRow.revision))
    )
    return list(result.scalars())


async def revisions(session: AsyncSession, tenant_id: str) -> tuple[int, int]:
    """(the revision at which the tenant was last deleted, its newest stored revision), 0 for
    none: in one round trip, without reading any manifest's objects."""
    deleted = select(col(DeletedTenant.revision)).where(col(DeletedTenant.tenant_id) == tenant_id)
    newest = select(func.max(col(ManifestRow.revision))).where(
        col(ManifestRow.tenant_id) == tenant_id
    )
    row = (
        await session.execute(
            select(
                func.coalesce(deleted.scalar_subquery(), 0),
                func.coalesce(newest.scalar_subquery(), 0),
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def mark_deleted(session: AsyncSession, tenant_id: str, revision: int, at: datetime) -> None:
    """Every manifest made before the delete is kept for audit but no longer served."""
    await session.execute(
        update(ManifestRow)
        .where(
            col(ManifestRow.tenant_id) == tenant_id,
            col(ManifestRow.revision) < revision,
            col(ManifestRow.deleted_at).is_(None),
        )
        .values(deleted_at=at)
    )
    await session.execute(
        insert(DeletedTenant)
        .values(tenant_id=tenant_id, revision=revision, deleted_at=at)
        .on_conflict_do_update(
            index_elements=["tenant_id"],
            set_={"revision": revision, "deleted_at": at},
            where=col(DeletedTenant.revision) < revision,
        )
    )
