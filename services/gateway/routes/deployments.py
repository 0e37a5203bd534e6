"""Deployments: deploy or roll back a tenant, read its deployment, and the cluster's usage."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from services.gateway import store
from services.gateway.commands import require_broker
from services.gateway.deps import (
    GatewayDep,
    ModeDep,
    Operator,
    Viewer,
    require_live_tenant,
    tenant_not_found,
)
from services.gateway.errors import Problem
from services.gateway.rpc import ask
from shared.bus import publish_command
from shared.contracts.deployments import DeployTenant, RollbackTenant
from shared.modes import Mode

log = logging.getLogger(__name__)
router = APIRouter(tags=["deployments"])


class DeployRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int | None = Field(default=None, ge=1, description="default: the latest sized")


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_revision: int | None = Field(
        default=None, ge=1, description="default: the previous successful revision"
    )


class DeploymentAccepted(BaseModel):
    deployment_id: str
    tenant_id: str
    revision: int
    status: str = "queued"
    detail: str


class DeploymentQuery(BaseModel):
    tenant_id: str


class ClusterQuery(BaseModel):
    pass


async def deployable(gateway: GatewayDep, mode: Mode, tenant_id: str) -> store.TenantRow:
    async with gateway.db.session(mode) as session:
        row = await store.live_tenant(session, tenant_id)
    if row is None:
        raise tenant_not_found(tenant_id)
    if row.status == "deploying":
        raise Problem(
            409, "DEPLOYMENT_IN_PROGRESS", f"tenant {tenant_id!r} is being deployed; wait for it"
        )
    if row.status == "deleting":
        raise Problem(409, "TENANT_DELETING", f"tenant {tenant_id!r} is being deleted")
    return row


async def send(gateway: GatewayDep, mode: Mode, tenant_id: str, verb: str, command: Any) -> None:
    require_broker(gateway)
    try:
        await publish_command(
            gateway.broker,
            mode,
            tenant_id,
            f"deployment.{verb}",
            command,
            msg_id=f"deployment.{verb}:{tenant_id}:{command.deployment_id}",
        )
    except Exception as error:
        log.error("command not confirmed", extra={"tenant_id": tenant_id, "error": repr(error)})
        raise Problem(
            503,
            "BROKER_UNAVAILABLE",
            "the message broker did not confirm the command; it may still run: "
            f"GET /api/v1/tenants/{tenant_id}/deployment shows it",
        ) from error


@router.post(
    "/api/v1/tenants/{tenant_id}/deploy", status_code=202, response_model=DeploymentAccepted
)
async def deploy(
    tenant_id: str,
    gateway: GatewayDep,
    mode: ModeDep,
    _: Operator,
    body: DeployRequest | None = Body(default=None),
) -> DeploymentAccepted:
    row = await deployable(gateway, mode, tenant_id)
    revision = (body.revision if body else None) or row.sized_revision
    if not revision:
        raise Problem(409, "TENANT_NOT_READY", f"tenant {tenant_id!r} has not been sized yet")
    if revision > row.revision:
        raise Problem(422, "UNKNOWN_REVISION", f"tenant {tenant_id!r} has no revision {revision}")
    deployment_id = f"dep-{uuid.uuid4().hex[:16]}"
    command = DeployTenant(tenant_id=tenant_id, revision=revision, deployment_id=deployment_id)
    await send(gateway, mode, tenant_id, "deploy", command)
    return DeploymentAccepted(
        deployment_id=deployment_id,
        tenant_id=tenant_id,
        revision=revision,
        detail="queued; follow /ws/events or GET .../deployment",
    )


@router.post(
    "/api/v1/tenants/{tenant_id}/rollback", status_code=202, response_model=DeploymentAccepted
)
async def rollback(
    tenant_id: str,
    gateway: GatewayDep,
    mode: ModeDep,
    _: Operator,
    body: RollbackRequest | None = Body(default=None),
) -> DeploymentAccepted:
    row = await deployable(gateway, mode, tenant_id)
    to_revision = body.to_revision if body else None
    if to_revision is not None and to_revision > row.revision:
        raise Problem(
            422, "UNKNOWN_REVISION", f"tenant {tenant_id!r} has no revision {to_revision}"
        )
    deployment_id = f"rbk-{uuid.uuid4().hex[:16]}"
    # The rollback's events carry the tenant's latest revision so the status they set is not
    # taken for an older one; the revision applied is `to_revision`.
    command = RollbackTenant(
        tenant_id=tenant_id,
        revision=row.revision,
        to_revision=to_revision,
        deployment_id=deployment_id,
    )
    await send(gateway, mode, tenant_id, "rollback", command)
    return DeploymentAccepted(
        deployment_id=deployment_id,
        tenant_id=tenant_id,
        revision=row.revision,
        detail="rollback queued; follow /ws/events or GET .../deployment",
    )


@router.get("/api/v1/tenants/{tenant_id}/deployment")
async def deployment(tenant_id: str, gateway: GatewayDep, mode: ModeDep, _: Viewer) -> Any:
    """The current deployment state, the revision live, per-object status and the history."""
    await require_live_tenant(gateway, mode, tenant_id)
    return await ask(gateway, mode, "deployer", "status", DeploymentQuery(tenant_id=tenant_id))


@router.get("/api/v1/cluster")
async def cluster(gateway: GatewayDep, mode: ModeDep, _: Viewer) -> Any:
    """Demo: requested against capacity per node of the virtual cluster. Prod: the nodes."""
    return await ask(gateway, mode, "deployer", "cluster", ClusterQuery())
