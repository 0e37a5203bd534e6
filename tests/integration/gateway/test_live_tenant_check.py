"""The check the tenant-scoped routes run before asking a service: a tenant that exists and is not
deleted passes, an unknown or deleted one is a 404 `TENANT_NOT_FOUND`, against a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from services.gateway.deps import Gateway, require_live_tenant
from services.gateway.errors import Problem
from services.gateway.routes.tenants import record_creation
from shared.contracts.tenants import TenantSpec
from shared.modes import Mode

pytestmark = pytest.mark.integration
MODE = Mode.demo


async def created(gateway: Gateway) -> str:
    spec = TenantSpec.model_validate(
        {"tenant_id": f"l-{uuid4().hex[:8]}", "name": "live check", "service_requirements": {}}
    )
    await record_creation(gateway, MODE, spec, datetime.now(UTC))
    return spec.tenant_id


async def test_a_live_tenant_passes(gateway: Gateway) -> None:
    await require_live_tenant(gateway, MODE, await created(gateway))


async def test_an_unknown_tenant_is_not_found(gateway: Gateway) -> None:
    with pytest.raises(Problem) as refused:
        await require_live_tenant(gateway, MODE, f"l-{uuid4().hex[:8]}")
    assert (refused.value.status, refused.value.code) == (404, "TENANT_NOT_FOUND")


async def test_a_deleted_tenant_is_not_found(gateway: Gateway) -> None:
    tenant_id = await created(gateway)
    async with gateway.db.connection(MODE) as conn:
        await conn.execute(
            "UPDATE gateway.tenants SET deleted_at = now() WHERE tenant_id = $1", tenant_id
        )
    with pytest.raises(Problem) as refused:
        await require_live_tenant(gateway, MODE, tenant_id)
    assert refused.value.code == "TENANT_NOT_FOUND"


async def test_a_tenant_of_the_other_mode_is_not_found(gateway: Gateway) -> None:
    tenant_id = await created(gateway)
    with pytest.raises(Problem):
        await require_live_tenant(gateway, Mode.prod, tenant_id)
