"""The gateway's read model against a real PostgreSQL: events that change nothing are dropped on
rows read outside a transaction (no lock taken), the others are written back unless the row was
written since it was read, in which case they are applied to the row as it now is; the same holds
for a request that settles its tenant's event."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from services.gateway import store
from services.gateway.app import project
from services.gateway.deps import Gateway
from services.gateway.events import BusEvent
from services.gateway.routes.tenants import record_creation, settle
from shared.contracts.tenants import TenantSpec
from shared.modes import Mode

pytestmark = pytest.mark.integration
MODE = Mode.demo


async def created(gateway: Gateway) -> tuple[TenantSpec, dict[str, Any]]:
    """A tenant as POST /tenants/ records it, and the spec its tenant.accepted carries."""
    spec = TenantSpec.model_validate(
        {"tenant_id": f"p-{uuid4().hex[:8]}", "name": "read model", "service_requirements": {}}
    )
    await record_creation(gateway, MODE, spec, datetime.now(UTC))
    return spec, spec.model_dump(mode="json")


async def row_of(gateway: Gateway, tenant_id: str) -> store.TenantRow:
    async with gateway.db.session(MODE) as session:
        row = await store.get_tenant(session, tenant_id)
    assert row is not None
    return row


async def test_events_that_change_nothing_take_no_lock_and_write_nothing(
    gateway: Gateway, database_urls: dict[str, str]
) -> None:
    spec, spec_json = await created(gateway)
    tid = spec.tenant_id
    before = await row_of(gateway, tid)
    accepted = BusEvent(MODE, tid, "tenant.accepted", {"revision": 1, "spec": spec_json})
    locker = await asyncpg.connect(database_urls["demo"])
    try:
        async with locker.transaction():
            await locker.execute(
                "SELECT 1 FROM gateway.tenants WHERE tenant_id = $1 FOR UPDATE", tid
            )
            # With the row locked elsewhere, a projection that locked it would wait here.
            await asyncio.wait_for(project(gateway, [accepted, accepted]), timeout=5)
    finally:
        await locker.close()
    after = await row_of(gateway, tid)
    assert after.updated_at == before.updated_at and after.spec == before.spec


async def test_events_that_change_the_row_are_still_applied_in_order(gateway: Gateway) -> None:
    spec, spec_json = await created(gateway)
    tid = spec.tenant_id
    renamed = {**spec_json, "name": "renamed"}
    events = [
        BusEvent(MODE, tid, "tenant.accepted", {"revision": 1, "spec": spec_json}),  # no change
        BusEvent(MODE, tid, "tenant.accepted", {"revision": 1, "spec": renamed}),
        BusEvent(MODE, tid, "deployment.started", {"revision": 1}),
    ]
    await project(gateway, events)
    row = await row_of(gateway, tid)
    assert row.name == "renamed" and row.status == "deploying"


def sized(tenant_id: str) -> BusEvent:
    quota = {"cpu_limit": "2", "memory_limit": "4Gi", "gpu_limit": 0, "storage_limit": "10Gi"}
    sizing = {"preset": "small", "quota": quota, "gpu_type": None}
    return BusEvent(MODE, tenant_id, "tenant.sized", {"revision": 1, "sizing": sizing})


async def test_settling_an_event_the_read_model_applied_takes_no_lock(
    gateway: Gateway, database_urls: dict[str, str]
) -> None:
    spec, _ = await created(gateway)
    tid = spec.tenant_id
    await project(gateway, [sized(tid)])
    locker = await asyncpg.connect(database_urls["demo"])
    try:
        async with locker.transaction():
            await locker.execute(
                "SELECT 1 FROM gateway.tenants WHERE tenant_id = $1 FOR UPDATE", tid
            )
            # The request that created the tenant answers from the row as the read model left it.
            row = await asyncio.wait_for(settle(gateway, MODE, tid, sized(tid)), timeout=5)
    finally:
        await locker.close()
    assert row.sized_revision == 1 and row.cpu_limit == "2" and row.status == "pending"


async def test_settling_an_event_the_read_model_has_not_applied_writes_it(
    gateway: Gateway,
) -> None:
    spec, _ = await created(gateway)
    tid = spec.tenant_id
    row = await settle(gateway, MODE, tid, sized(tid))
    stored = await row_of(gateway, tid)
    assert row.sized_revision == stored.sized_revision == 1
    assert stored.memory_limit == "4Gi" and stored.requested_spec is None


async def test_a_row_written_since_it_was_read_is_not_overwritten(
    gateway: Gateway, database_urls: dict[str, str]
) -> None:
    spec, _ = await created(gateway)
    tid = spec.tenant_id
    async with gateway.db.connection(MODE) as conn:
        (tenant,) = (await store.tenant_rows(conn, [tid])).values()
        await conn.execute(
            "UPDATE gateway.tenants SET name = 'meanwhile' WHERE tenant_id = $1", tid
        )
        tenant.row.status = "running"
        assert not await store.write_tenant(conn, tenant, checked=True)
        (again,) = (await store.tenant_rows(conn, [tid])).values()
        again.row.status = "running"
        assert await store.write_tenant(conn, again, checked=True)
        # The version a write returns is the one the next checked write needs.
        again.row.last_error = "later"
        assert await store.write_tenant(conn, again, checked=True)
    stored = await row_of(gateway, tid)
    assert (stored.name, stored.status, stored.last_error) == ("meanwhile", "running", "later")


async def test_a_write_sends_only_the_columns_that_changed(gateway: Gateway) -> None:
    spec, _ = await created(gateway)
    tid = spec.tenant_id
    await settle(gateway, MODE, tid, sized(tid))
    async with gateway.db.connection(MODE) as conn:
        (tenant,) = (await store.tenant_rows(conn, [tid], columns=store.PROJECTED_COLUMNS)).values()
        await conn.execute(
            "UPDATE gateway.tenants SET name = 'meanwhile' WHERE tenant_id = $1", tid
        )
        tenant.row.status = "running"
        assert await store.write_tenant(conn, tenant, checked=False)
    stored = await row_of(gateway, tid)
    # Neither the column written meanwhile nor the sizing, which was not read, is overwritten.
    assert (stored.name, stored.status) == ("meanwhile", "running")
    assert stored.resources is not None and stored.cpu_limit == "2"


async def test_the_projection_stores_the_sizing_it_did_not_read(gateway: Gateway) -> None:
    spec, _ = await created(gateway)
    tid = spec.tenant_id
    event = sized(tid)
    await project(gateway, [event])
    row = await row_of(gateway, tid)
    assert row.sized_revision == 1 and row.resources == event.data["sizing"]


async def rename_and_start(gateway: Gateway, tid: str, spec_json: dict[str, Any]) -> None:
    """Project a renaming `tenant.accepted` and a `deployment.started` in one batch."""
    renamed = {**spec_json, "name": "renamed"}
    await project(
        gateway,
        [
            BusEvent(MODE, tid, "tenant.accepted", {"revision": 1, "spec": renamed}),
            BusEvent(MODE, tid, "deployment.started", {"revision": 1}),
        ],
    )


async def test_projecting_a_sized_tenant_keeps_its_sizing(gateway: Gateway) -> None:
    spec, spec_json = await created(gateway)
    tid = spec.tenant_id
    await settle(gateway, MODE, tid, sized(tid))
    sizing = (await row_of(gateway, tid)).resources
    await rename_and_start(gateway, tid, spec_json)
    row = await row_of(gateway, tid)
    assert (row.name, row.status) == ("renamed", "deploying")
    assert sizing is not None and row.resources == sizing


async def test_events_on_a_row_written_meanwhile_are_applied_to_the_row_as_it_now_is(
    gateway: Gateway, database_urls: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, spec_json = await created(gateway)
    tid = spec.tenant_id
    read = store.tenant_rows

    async def read_then_written_elsewhere(conn: Any, tenant_ids: Any, **options: Any) -> Any:
        rows = await read(conn, tenant_ids, **options)
        if not options.get("for_update"):
            other = await asyncpg.connect(database_urls["demo"])
            await other.execute(
                "UPDATE gateway.tenants SET last_error = 'x' WHERE tenant_id = $1", tid
            )
            await other.close()
        return rows

    monkeypatch.setattr(store, "tenant_rows", read_then_written_elsewhere)
    await rename_and_start(gateway, tid, spec_json)
    row = await row_of(gateway, tid)
    assert (row.name, row.status, row.last_error) == ("renamed", "deploying", "x")
