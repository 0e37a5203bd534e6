"""The tenant read model, projected from events. Applying an event twice, or an older one
after a newer one, changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.gateway.store import TenantRow

# Deployment events move the status; each carries the revision it deployed.
SETTLING_EVENTS = {"tenant.sized", "tenant.rejected", "tenant.deleted"}
DEPLOYMENT_STATUS = {
    "deployment.started": "deploying",
    "deployment.succeeded": "running",
    "deployment.failed": "failed",
    "deployment.rolled-back": "running",
}


# Every event that can change a row; the read model's consumer takes only these.
PROJECTED_EVENTS = (*sorted(SETTLING_EVENTS), "tenant.accepted", *DEPLOYMENT_STATUS)


def apply_event(row: TenantRow, event: str, data: dict[str, Any]) -> bool:
    """Apply one event to the tenant's row; True when the row changed."""
    revision = int(data.get("revision", 0))
    settled = event in SETTLING_EVENTS and revision > row.settled_revision
    if settled:
        # The calculator answered this revision: nothing is left to send again.
        row.settled_revision = revision
        if revision >= row.revision:
            row.requested_spec = None
    changed = _apply(row, event, data, revision)
    if changed or settled:
        row.updated_at = datetime.now(UTC)
    return changed or settled


def _apply(row: TenantRow, event: str, data: dict[str, Any], revision: int) -> bool:
    now = datetime.now(UTC)
    if event == "tenant.sized":
        if revision <= row.sized_revision:
            return False
        sizing = data["sizing"]
        quota = sizing["quota"]
        row.sized_revision = revision
        row.preset = sizing["preset"]
        row.requested_preset = sizing.get("preset_requested")
        row.resources = sizing
        row.cpu_limit, row.memory_limit = quota["cpu_limit"], quota["memory_limit"]
        row.gpu_limit, row.storage_limit = quota["gpu_limit"], quota["storage_limit"]
        row.gpu_type = sizing["gpu_type"]
        row.last_error = None
    elif event == "tenant.accepted":
        if revision < row.sized_revision or data["spec"] == row.spec:
            return False
        spec = data["spec"]
        row.spec, row.name = spec, spec["name"]
        row.service_requirements, row.sla_target = spec["service_requirements"], spec["sla_target"]
    elif event == "tenant.rejected":
        if revision != row.revision or row.sized_revision >= revision:
            return False
        row.last_error = f"{data['code']}: {data['reason']}"
        if row.sized_revision == 0:
            # A create the calculator refused leaves nothing behind: the id is free again.
            row.status, row.deleted_at = "rejected", now
    elif event == "tenant.deleted":
        if row.deleted_at is not None and row.status == "deleted":
            return False
        row.status, row.deleted_at = "deleted", now
    elif event in DEPLOYMENT_STATUS:
        if row.deleted_at is not None or revision < row.status_revision:
            return False
        status = DEPLOYMENT_STATUS[event]
        if status == row.status and revision == row.status_revision:
            return False
        row.status, row.status_revision = status, revision
        if event == "deployment.failed":
            row.last_error = str(data.get("reason", ""))
    else:
        return False
    return True
