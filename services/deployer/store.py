"""The deployer's tables (schema `deployer`): manifests received, deployments, tenants, cluster."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, delete, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from shared.contracts.base import utc_now

SCHEMA = "deployer"
VIRTUAL_CLUSTER = "virtual"


class ManifestRow(SQLModel, table=True):
    """The rendered objects of one tenant revision, kept so a rollback can re-apply them."""

    __tablename__ = "manifests"
    __table_args__ = {"schema": SCHEMA}

    tenant_id: str = Field(primary_key=True, max_length=63)
    revision: int = Field(primary_key=True)
    content_hash: str
    objects: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    auto_deploy: bool | None = None
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DeploymentRow(SQLModel, table=True):
    """One attempt to make the cluster match a manifest revision."""

    __tablename__ = "deployments"
    __table_args__ = {"schema": SCHEMA}

    deployment_id: str = Field(primary_key=True, max_length=120)
    tenant_id: str = Field(index=True, max_length=63)
    revision: int  # the revision the events carry
    manifest_revision: int  # the manifest revision applied
    kind: str  # deploy | rollback
    reason: str
    state: str  # deploying | succeeded | failed | rolled-back
    error: str | None = None
    step: str = ""
    objects: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    placement: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

    @property
    def finished(self) -> bool:
        return self.state != "deploying"


class TenantRow(SQLModel, table=True):
    """What is live for a tenant: the revision applied and the inventory of applied objects."""

    __tablename__ = "tenants"
    __table_args__ = {"schema": SCHEMA}

    tenant_id: str = Field(primary_key=True, max_length=63)
    applied_revision: int = 0  # manifest revision of the last successful deployment
    last_revision: int = 0  # highest event revision acted on: older auto deploys are stale
    deleted_revision: int = 0
    current_deployment_id: str | None = None
    inventory: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ClusterRow(SQLModel, table=True):
    """The virtual cluster of the mode's database: its nodes, and a version that every change
    of the pods raises. The row is locked while a placement changes the cluster."""

    __tablename__ = "cluster_state"
    __table_args__ = {"schema": SCHEMA}

    name: str = Field(primary_key=True, max_length=63)
    version: int = 0
    state: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class TenantPodsRow(SQLModel, table=True):
    """The pods one tenant has on the virtual cluster."""

    __tablename__ = "virtual_pods"
    __table_args__ = {"schema": SCHEMA}

    tenant_id: str = Field(primary_key=True, max_length=63)
    pods: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


async def tenant(session: AsyncSession, tenant_id: str, *, for_update: bool = False) -> TenantRow:
    """The tenant's row, created empty (not yet flushed) when the deployer has not seen it."""
    statement = select(TenantRow).where(col(TenantRow.tenant_id) == tenant_id)
    if for_update:
        statement = statement.with_for_update()
    row = (await session.execute(statement)).scalar_one_or_none()
    if row is None:
        row = TenantRow(tenant_id=tenant_id, inventory=[], updated_at=utc_now())
        session.add(row)
    return row


async def known_tenant(session: AsyncSession, tenant_id: str) -> TenantRow | None:
    return await session.get(TenantRow, tenant_id)


async def manifest(session: AsyncSession, tenant_id: str, revision: int) -> ManifestRow | None:
    return await session.get(ManifestRow, (tenant_id, revision))


async def keep_manifest(
    session: AsyncSession,
    tenant_id: str,
    revision: int,
    content_hash: str,
    objects: list[dict[str, Any]],
    auto_deploy: bool | None,
    at: datetime,
) -> None:
    """Store a revision's objects; a revision already stored (a redelivery) is left as it was."""
    await session.execute(
        insert(ManifestRow)
        .values(
            tenant_id=tenant_id,
            revision=revision,
            content_hash=content_hash,
            objects=objects,
            auto_deploy=auto_deploy,
            received_at=at,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "revision"])
    )


async def latest_manifest(session: AsyncSession, tenant_id: str) -> ManifestRow | None:
    result = await session.execute(
        select(ManifestRow)
        .where(col(ManifestRow.tenant_id) == tenant_id)
        .order_by(col(ManifestRow.revision).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def deployment(session: AsyncSession, deployment_id: str) -> DeploymentRow | None:
    return await session.get(DeploymentRow, deployment_id)


async def history(session: AsyncSession, tenant_id: str, limit: int = 50) -> list[DeploymentRow]:
    result = await session.execute(
        select(DeploymentRow)
        .where(col(DeploymentRow.tenant_id) == tenant_id)
        .order_by(col(DeploymentRow.started_at).desc())
        .limit(limit)
    )
    return list(result.scalars())


async def finish_deployment(
    session: AsyncSession,
    deployment_id: str,
    *,
    state: str,
    error: str | None,
    objects: list[dict[str, Any]],
    step: str,
    placement: dict[str, Any] | None,
    at: datetime,
) -> None:
    """Write a deployment's outcome; a placement of None keeps the one recorded earlier."""
    values: dict[str, Any] = {
        "state": state,
        "error": error,
        "objects": objects,
        "step": step,
        "finished_at": at,
    }
    if placement is not None:
        values["placement"] = placement
    await session.execute(
        update(DeploymentRow)
        .where(col(DeploymentRow.deployment_id) == deployment_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def record_outcome(
    session: AsyncSession,
    tenant_id: str,
    inventory: list[dict[str, Any]],
    applied_revision: int | None,
    at: datetime,
) -> None:
    """The tenant's inventory after a deployment, and its applied revision when it succeeded."""
    values: dict[str, Any] = {"inventory": inventory, "updated_at": at}
    if applied_revision is not None:
        values["applied_revision"] = applied_revision
    await session.execute(
        update(TenantRow)
        .where(col(TenantRow.tenant_id) == tenant_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def cluster_version(session: AsyncSession, *, for_update: bool) -> int | None:
    statement = select(col(ClusterRow.version)).where(col(ClusterRow.name) == VIRTUAL_CLUSTER)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def cluster_state(session: AsyncSession) -> dict[str, Any] | None:
    statement = select(col(ClusterRow.state)).where(col(ClusterRow.name) == VIRTUAL_CLUSTER)
    return (await session.execute(statement)).scalar_one_or_none()


async def all_pods(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(select(col(TenantPodsRow.pods)))
    return [pod for (pods,) in rows for pod in pods]


async def save_nodes(
    session: AsyncSession, version: int, nodes: dict[str, Any], at: datetime
) -> None:
    await session.execute(
        update(ClusterRow)
        .where(col(ClusterRow.name) == VIRTUAL_CLUSTER)
        .values(version=version, state=nodes, updated_at=at)
    )


async def save_tenant_pods(
    session: AsyncSession, version: int, tenant_id: str, pods: list[dict[str, Any]], at: datetime
) -> None:
    """Replace one tenant's pods (none: forget the tenant) and raise the cluster's version."""
    if pods:
        statement = insert(TenantPodsRow).values(tenant_id=tenant_id, pods=pods, updated_at=at)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[TenantPodsRow.tenant_id],
                set_={"pods": statement.excluded.pods, "updated_at": at},
            )
        )
    else:
        await session.execute(
            delete(TenantPodsRow).where(col(TenantPodsRow.tenant_id) == tenant_id)
        )
    await session.execute(
        update(ClusterRow)
        .where(col(ClusterRow.name) == VIRTUAL_CLUSTER)
        .values(version=version, updated_at=at)
    )


async def purge_tenant(session: AsyncSession, tenant_id: str) -> None:
    """Forget the manifests of a deleted tenant (deployments stay as history)."""
    await session.execute(delete(ManifestRow).where(col(ManifestRow.tenant_id) == tenant_id))
