"""The deployer's tables (schema `deployer`): manifests received, deployments, tenants, cluster.

The queries are SQL on the driver's connection (`Databases.transaction`): every deployment runs
them, and through an ORM session each would cost two to three times the CPU."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import JSON, Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.contracts.base import utc_now
from shared.db import column_list, json_text, loaded, new_row, placeholders, row_values

SCHEMA = "deployer"
VIRTUAL_CLUSTER = "virtual"


class ManifestRow(SQLModel, table=True):
    """The rendered objects of one tenant revision, kept so a rollback can re-apply them."""

    __tablename__ = "manifests"
    __table_args__ = {"schema": SCHEMA}

    tenant_id: str = Field(primary_key=True, max_length=63)
    revision: int = Field(primary_key=True)
    content_hash: str
    # `json`: stored and read back whole, never queried inside (`jsonb` costs the server more).
    objects: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
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


TENANT_COLUMNS = column_list(TenantRow)
DEPLOYMENT_COLUMNS = column_list(DeploymentRow)
MANIFEST_COLUMNS = column_list(ManifestRow)


async def tenant(
    conn: asyncpg.Connection, tenant_id: str, *, for_update: bool = False
) -> TenantRow:
    """The tenant's row, or a new empty one (stored by `save_tenant`) when the deployer has not
    seen the tenant."""
    return await known_tenant(conn, tenant_id, for_update=for_update) or new_tenant(tenant_id)


def new_tenant(tenant_id: str) -> TenantRow:
    # Built as loaded rows are: the model's __init__ costs more than the rest of this path.
    return new_row(TenantRow, tenant_id=tenant_id, updated_at=utc_now())


def new_deployment(
    deployment_id: str,
    tenant_id: str,
    revision: int,
    manifest_revision: int,
    kind: str,
    reason: str,
) -> DeploymentRow:
    """A deployment under way, as `add_deployment` records it."""
    return new_row(
        DeploymentRow,
        deployment_id=deployment_id,
        tenant_id=tenant_id,
        revision=revision,
        manifest_revision=manifest_revision,
        kind=kind,
        reason=reason,
        state="deploying",
        started_at=utc_now(),
    )


async def known_tenant(
    conn: asyncpg.Connection, tenant_id: str, *, for_update: bool = False
) -> TenantRow | None:
    lock = " FOR UPDATE" if for_update else ""
    record = await conn.fetchrow(
        f"SELECT {TENANT_COLUMNS} FROM {SCHEMA}.tenants WHERE tenant_id = $1{lock}", tenant_id
    )
    return loaded(TenantRow, record) if record else None


_SAVE_TENANT = f"""INSERT INTO {SCHEMA}.tenants ({TENANT_COLUMNS}) VALUES (%s)
    ON CONFLICT (tenant_id) DO UPDATE SET applied_revision = excluded.applied_revision,
      last_revision = excluded.last_revision, deleted_revision = excluded.deleted_revision,
      current_deployment_id = excluded.current_deployment_id,
      inventory = excluded.inventory, updated_at = excluded.updated_at"""


async def save_tenant(conn: asyncpg.Connection, row: TenantRow) -> None:
    await conn.execute(_SAVE_TENANT % placeholders(7), *row_values(row))


async def manifest(conn: asyncpg.Connection, tenant_id: str, revision: int) -> ManifestRow | None:
    record = await conn.fetchrow(
        f"SELECT {MANIFEST_COLUMNS} FROM {SCHEMA}.manifests WHERE tenant_id = $1 AND revision = $2",
        tenant_id,
        revision,
    )
    return loaded(ManifestRow, record) if record else None


async def keep_manifest(
    conn: asyncpg.Connection,
    tenant_id: str,
    revision: int,
    content_hash: str,
    objects: list[dict[str, Any]],
    auto_deploy: bool | None,
    at: datetime,
) -> None:
    """Store a revision's objects; a revision already stored (a redelivery) is left as it was."""
    await conn.execute(
        f"INSERT INTO {SCHEMA}.manifests ({MANIFEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (tenant_id, revision) DO NOTHING",
        tenant_id,
        revision,
        content_hash,
        json_text(objects),
        auto_deploy,
        at,
    )


async def deployment(conn: asyncpg.Connection, deployment_id: str) -> DeploymentRow | None:
    record = await conn.fetchrow(
        f"SELECT {DEPLOYMENT_COLUMNS} FROM {SCHEMA}.deployments WHERE deployment_id = $1",
        deployment_id,
    )
    return loaded(DeploymentRow, record) if record else None


async def add_deployment(conn: asyncpg.Connection, row: DeploymentRow, tenant: TenantRow) -> None:
    """Record a new deployment and save its tenant's row, in one statement."""
    await conn.execute(
        f"""WITH added AS (
          INSERT INTO {SCHEMA}.deployments ({DEPLOYMENT_COLUMNS}) VALUES ({placeholders(13)}))
        {_SAVE_TENANT % placeholders(7, first=14)}""",
        *row_values(row),
        *row_values(tenant),
    )


async def history(conn: asyncpg.Connection, tenant_id: str, limit: int = 50) -> list[DeploymentRow]:
    records = await conn.fetch(
        f"SELECT {DEPLOYMENT_COLUMNS} FROM {SCHEMA}.deployments WHERE tenant_id = $1"
        " ORDER BY started_at DESC LIMIT $2",
        tenant_id,
        limit,
    )
    return [loaded(DeploymentRow, record) for record in records]


async def show_placement(
    conn: asyncpg.Connection, deployment_id: str, placement: dict[str, Any], step: str
) -> None:
    await conn.execute(
        f"UPDATE {SCHEMA}.deployments SET placement = $2, step = $3 WHERE deployment_id = $1",
        deployment_id,
        json_text(placement),
        step,
    )


async def finish_deployment(
    conn: asyncpg.Connection,
    deployment_id: str,
    *,
    state: str,
    error: str | None,
    objects: list[dict[str, Any]],
    step: str,
    placement: dict[str, Any] | None,
    tenant_id: str,
    inventory: list[dict[str, Any]],
    applied_revision: int | None,
    at: datetime,
) -> None:
    """Write a deployment's outcome, and the tenant's inventory after it and its applied
    revision when it succeeded. One statement, so both rows change together with no BEGIN and
    COMMIT around them; a placement or applied revision of None keeps the one recorded."""
    await conn.execute(
        f"""WITH finished AS (
          UPDATE {SCHEMA}.deployments SET state = $2, error = $3, objects = $4, step = $5,
            placement = coalesce($6, placement), finished_at = $7
          WHERE deployment_id = $1)
        UPDATE {SCHEMA}.tenants SET inventory = $9,
          applied_revision = coalesce($10, applied_revision), updated_at = $7
        WHERE tenant_id = $8""",
        deployment_id,
        state,
        error,
        json_text(objects),
        step,
        None if placement is None else json_text(placement),
        at,
        tenant_id,
        json_text(inventory),
        applied_revision,
    )


async def cluster_version(conn: asyncpg.Connection, *, for_update: bool) -> int | None:
    lock = " FOR UPDATE" if for_update else ""
    version: int | None = await conn.fetchval(
        f"SELECT version FROM {SCHEMA}.cluster_state WHERE name = $1{lock}", VIRTUAL_CLUSTER
    )
    return version


async def add_cluster(conn: asyncpg.Connection, nodes: dict[str, Any], at: datetime) -> None:
    """The cluster row at version 0, unless another process created it first."""
    await conn.execute(
        f"INSERT INTO {SCHEMA}.cluster_state (name, version, state, updated_at)"
        " VALUES ($1, 0, $2, $3) ON CONFLICT (name) DO NOTHING",
        VIRTUAL_CLUSTER,
        json_text(nodes),
        at,
    )


async def cluster_state(conn: asyncpg.Connection) -> dict[str, Any] | None:
    state: dict[str, Any] | None = await conn.fetchval(
        f"SELECT state FROM {SCHEMA}.cluster_state WHERE name = $1", VIRTUAL_CLUSTER
    )
    return state


async def all_pods(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    records = await conn.fetch(f"SELECT pods FROM {SCHEMA}.virtual_pods")
    return [pod for record in records for pod in record["pods"]]


async def save_nodes(
    conn: asyncpg.Connection, version: int, nodes: dict[str, Any], at: datetime
) -> None:
    await conn.execute(
        f"UPDATE {SCHEMA}.cluster_state SET version = $2, state = $3, updated_at = $4"
        " WHERE name = $1",
        VIRTUAL_CLUSTER,
        version,
        json_text(nodes),
        at,
    )


async def save_tenant_pods(
    conn: asyncpg.Connection, version: int, tenant_id: str, pods: list[dict[str, Any]], at: datetime
) -> None:
    """Replace one tenant's pods (none: forget the tenant) and raise the cluster's version, in
    one statement."""
    if pods:
        change = f"""INSERT INTO {SCHEMA}.virtual_pods (tenant_id, pods, updated_at)
          VALUES ($4, $5, $2) ON CONFLICT (tenant_id)
          DO UPDATE SET pods = excluded.pods, updated_at = excluded.updated_at"""
        arguments: tuple[Any, ...] = (version, at, VIRTUAL_CLUSTER, tenant_id, json_text(pods))
    else:
        change = f"DELETE FROM {SCHEMA}.virtual_pods WHERE tenant_id = $4"
        arguments = (version, at, VIRTUAL_CLUSTER, tenant_id)
    await conn.execute(
        f"""WITH changed AS ({change})
        UPDATE {SCHEMA}.cluster_state SET version = $1, updated_at = $2 WHERE name = $3""",
        *arguments,
    )


async def save_tenant_pods_at(
    conn: asyncpg.Connection, version: int, tenant_id: str, pods: list[dict[str, Any]], at: datetime
) -> bool:
    """Replace one tenant's pods and raise the cluster's version, if the version is still
    `version`; whether it was. One statement, outside a transaction: the version check is the
    lock (another placement meanwhile has raised it)."""
    done = await conn.fetchval(
        f"""WITH raised AS (
          UPDATE {SCHEMA}.cluster_state SET version = $1 + 1, updated_at = $2
          WHERE name = $3 AND version = $1 RETURNING version),
        changed AS (
          INSERT INTO {SCHEMA}.virtual_pods (tenant_id, pods, updated_at)
          SELECT $4, $5, $2 FROM raised ON CONFLICT (tenant_id)
          DO UPDATE SET pods = excluded.pods, updated_at = excluded.updated_at)
        SELECT count(*) FROM raised""",
        version,
        at,
        VIRTUAL_CLUSTER,
        tenant_id,
        json_text(pods),
    )
    return bool(done)


async def purge_tenant(conn: asyncpg.Connection, tenant_id: str) -> None:
    """Forget the manifests of a deleted tenant (deployments stay as history)."""
    await conn.execute(f"DELETE FROM {SCHEMA}.manifests WHERE tenant_id = $1", tenant_id)
