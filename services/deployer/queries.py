"""The deployer's answers to the gateway: a tenant's deployment state and the cluster's use."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from services.deployer import store
from services.deployer.demo_target import DemoTarget
from services.deployer.kube_api import KubeError

if TYPE_CHECKING:
    from services.deployer.handlers import Deployer


class DeploymentQueries:
    def __init__(self, deployer: Deployer) -> None:
        self.deployer = deployer

    async def status(self, body: dict[str, Any]) -> dict[str, Any]:
        tenant_id = str(body.get("tenant_id", ""))
        async with self.deployer.db.transaction(self.deployer.mode) as conn:
            tenant = await store.known_tenant(conn, tenant_id)
            rows = await store.history(conn, tenant_id)
        current = rows[0] if rows else None
        placement = None
        if isinstance(self.deployer.target, DemoTarget):
            pods = [
                p for p in (await self.deployer.target.state()).pods if p.tenant_id == tenant_id
            ]
            placement = {
                "nodes": sorted({p.node for p in pods}),
                "pods": [{"pod": p.name, "workload": p.workload, "node": p.node} for p in pods],
            }
        state = current.state if current else "none"
        if tenant is not None and tenant.deleted_revision >= (current.revision if current else 1):
            state = "deleted"
        return {
            "tenant_id": tenant_id,
            "mode": self.deployer.mode.value,
            "state": state,
            "revision": tenant.applied_revision if tenant else 0,
            "deployment": _summary(current, detailed=True) if current else None,
            "objects": current.objects if current else [],
            "placement": placement,
            "history": [_summary(row) for row in rows],
        }

    async def cluster(self, _: dict[str, Any]) -> dict[str, Any]:
        if isinstance(self.deployer.target, DemoTarget):
            return await self.deployer.target.cluster_usage()
        try:
            return await self.deployer.target.cluster_nodes()
        except KubeError as error:
            return {"mode": "prod", "configured": True, "error": str(error), "nodes": []}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _summary(row: store.DeploymentRow, detailed: bool = False) -> dict[str, Any]:
    summary = {
        "deployment_id": row.deployment_id,
        "revision": row.revision,
        "manifest_revision": row.manifest_revision,
        "kind": row.kind,
        "reason": row.reason,
        "state": row.state,
        "error": row.error,
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
    }
    if detailed:
        summary.update(step=row.step, placement=row.placement)
    return summary
