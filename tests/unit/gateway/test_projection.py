"""The read model: events applied twice, or out of order, change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.gateway.projection import apply_event
from services.gateway.store import TenantRow


def row(**changes: Any) -> TenantRow:
    now = datetime.now(UTC)
    values: dict[str, Any] = dict(
        tenant_id="acme",
        name="Acme",
        status="pending",
        revision=1,
        service_requirements={"chatbot": 10},
        sla_target={},
        spec={},
        created_at=now,
        updated_at=now,
    )
    return TenantRow(**{**values, **changes})


def sized(revision: int, preset: str) -> dict[str, Any]:
    quota = {"cpu_limit": "8000m", "memory_limit": "16Gi", "gpu_limit": 2, "storage_limit": "1Ti"}
    return {"revision": revision, "sizing": {"preset": preset, "quota": quota, "gpu_type": "T4"}}


def test_a_sizing_event_fills_the_seed_fields_once() -> None:
    tenant = row()
    assert apply_event(tenant, "tenant.sized", sized(1, "small"))
    assert (tenant.preset, tenant.cpu_limit, tenant.gpu_limit) == ("small", "8000m", 2)
    assert not apply_event(tenant, "tenant.sized", sized(1, "small"))


def test_an_older_sizing_never_overwrites_a_newer_one() -> None:
    tenant = row(revision=2)
    apply_event(tenant, "tenant.sized", sized(2, "medium"))
    assert not apply_event(tenant, "tenant.sized", sized(1, "small"))
    assert tenant.preset == "medium"


def test_a_rejected_create_frees_the_id() -> None:
    tenant = row()
    assert apply_event(
        tenant, "tenant.rejected", {"revision": 1, "code": "UNKNOWN_GPU_TYPE", "reason": "no H100"}
    )
    assert tenant.deleted_at is not None and tenant.status == "rejected"
    assert "UNKNOWN_GPU_TYPE" in (tenant.last_error or "")


def test_a_rejected_update_keeps_the_sized_tenant() -> None:
    tenant = row(revision=2)
    apply_event(tenant, "tenant.sized", sized(1, "small"))
    assert apply_event(tenant, "tenant.rejected", {"revision": 2, "code": "X", "reason": "y"})
    assert tenant.deleted_at is None and tenant.preset == "small"


def test_deployment_events_move_the_status_forward_only() -> None:
    tenant = row(revision=3)
    assert apply_event(tenant, "deployment.started", {"revision": 3})
    assert tenant.status == "deploying"
    assert apply_event(tenant, "deployment.succeeded", {"revision": 3})
    assert tenant.status == "running"
    assert not apply_event(tenant, "deployment.failed", {"revision": 2, "reason": "old"})
    assert tenant.status == "running"
    assert not apply_event(tenant, "deployment.succeeded", {"revision": 3})


def test_deletion_is_final_for_deployment_events() -> None:
    tenant = row()
    assert apply_event(tenant, "tenant.deleted", {"revision": 2})
    assert not apply_event(tenant, "deployment.succeeded", {"revision": 5})
    assert tenant.status == "deleted"
