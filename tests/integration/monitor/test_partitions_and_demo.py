"""Partition upkeep, and the demo generator following demo tenants' deployments."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.monitor import store
from services.monitor.background import generate_demo_metrics, maintain_partitions
from services.monitor.demo_load import offset_in_slot
from services.monitor.handlers import sample_stores
from services.monitor.partitions import DayPartition, partitions_wanted
from shared import subjects
from shared.modes import Mode
from tests.integration.monitor.conftest import eventually

pytestmark = pytest.mark.integration


async def test_maintenance_creates_days_ahead_and_drops_expired_days(monitor_settings, monitor):
    samples = sample_stores(monitor_settings)[Mode.prod]
    try:
        now = datetime.now(UTC)
        too_old = DayPartition((now - timedelta(days=60)).date())
        samples.known_partitions = set()
        await samples.ensure_partitions([too_old])
        await maintain_partitions(samples, monitor_settings)
        existing = set(await samples.existing_partitions())
    finally:
        await samples.close()
    wanted = partitions_wanted(
        now,
        monitor_settings.metrics_retention_days,
        monitor_settings.metrics_partitions_ahead_days,
    )
    assert set(wanted) <= existing
    assert too_old not in existing
    assert DayPartition(now.date() + timedelta(days=3)) in existing


SIZING = {
    "preset": "small",
    "total_requests": {"cpu_millicores": 8000, "memory_mib": 16384, "gpus": 1},
    "gpus": [{"role": "tts", "gpus": 1}],
}


async def send_event(nc, tenant_id: str, name: str, body: dict) -> None:
    aggregate, event = name.split(".", 1)
    await nc.jetstream().publish(
        subjects.event(Mode.demo, tenant_id, aggregate, event),
        json.dumps({"tenant_id": tenant_id, **body}).encode(),
        headers={"Nats-Msg-Id": f"{name}:{tenant_id}:{uuid4().hex}"},
    )


async def demo_row(monitor, tenant_id: str) -> store.DemoTenantRow | None:
    async with monitor.db.connection(Mode.demo) as conn:
        rows = {row.tenant_id: row for row in await store.demo_tenants(conn)}
    return rows.get(tenant_id)


async def generated(monitor, ask, tenant_id: str, moment: datetime) -> dict[str, float]:
    """The demo values stored for `tenant_id` at the slot of `moment`."""
    await generate_demo_metrics(monitor.broker, monitor.db, monitor.settings, moment)
    return await stored(monitor, ask, tenant_id, moment)


async def stored(monitor, ask, tenant_id: str, moment: datetime) -> dict[str, float]:
    """The demo values stored for `tenant_id` at the slot of `moment`, once there."""
    interval = monitor.settings.demo_metrics_interval_seconds
    slot_start = datetime.fromtimestamp(moment.timestamp() // interval * interval, UTC)

    async def values() -> dict[str, float]:
        answer = await ask(Mode.demo, tenant_id=tenant_id, source="demo")
        return {
            name: point["value"]
            for name, points in answer["metrics"].items()
            for point in points
            if point["timestamp"] == slot_start.isoformat()
        }

    return await eventually(values)


async def test_demo_metrics_follow_the_tenants_deployment(monitor, nc, ask):
    tenant_id = f"t-{uuid4().hex[:8]}"
    await send_event(nc, tenant_id, "tenant.sized", {"revision": 1, "sizing": SIZING})
    sized = await eventually(lambda: demo_row(monitor, tenant_id))
    assert sized is not None and not sized.running and sized.gpus == 1
    idle = await generated(monitor, ask, tenant_id, datetime.now(UTC) - timedelta(minutes=50))
    assert idle and set(idle.values()) == {0.0}

    await send_event(nc, tenant_id, "deployment.succeeded", {"revision": 1})
    assert await eventually(lambda: _running(monitor, tenant_id, True))
    busy = await generated(monitor, ask, tenant_id, datetime.now(UTC) - timedelta(minutes=40))
    assert busy["cpu_usage"] > 0 and busy["gpu_usage"] > 0 and busy["request_count"] > 0

    await send_event(nc, tenant_id, "deployment.failed", {"revision": 2})
    assert await eventually(lambda: _running(monitor, tenant_id, False))

    # One tenant's events are handled in order: an older revision's changes nothing.
    await send_event(nc, tenant_id, "deployment.succeeded", {"revision": 1})
    resized = {**SIZING, "preset": "medium"}
    await send_event(nc, tenant_id, "tenant.sized", {"revision": 2, "sizing": resized})
    assert await eventually(lambda: _preset(monitor, tenant_id, "medium"))
    assert not (await demo_row(monitor, tenant_id)).running
    await send_event(nc, tenant_id, "tenant.sized", {"revision": 1, "sizing": SIZING})
    await send_event(nc, tenant_id, "deployment.succeeded", {"revision": 3})
    assert await eventually(lambda: _running(monitor, tenant_id, True))
    assert (await demo_row(monitor, tenant_id)).preset == "medium"

    await send_event(nc, tenant_id, "tenant.deleted", {"revision": 4})
    assert await eventually(lambda: _gone(monitor, tenant_id))


async def _running(monitor, tenant_id: str, expected: bool) -> bool:
    row = await demo_row(monitor, tenant_id)
    return row is not None and row.running is expected


async def _preset(monitor, tenant_id: str, expected: str) -> bool:
    row = await demo_row(monitor, tenant_id)
    return row is not None and row.preset == expected


async def _gone(monitor, tenant_id: str) -> bool:
    return await demo_row(monitor, tenant_id) is None


async def test_a_paced_slot_publishes_each_batch_at_its_tenants_time_in_the_slot(monitor, nc, ask):
    tenant_ids = [f"t-{uuid4().hex[:8]}" for _ in range(5)]
    for tenant_id in tenant_ids:
        await send_event(nc, tenant_id, "tenant.sized", {"revision": 1, "sizing": SIZING})
    for tenant_id in tenant_ids:
        assert await eventually(lambda tenant_id=tenant_id: demo_row(monitor, tenant_id))
    interval = monitor.settings.demo_metrics_interval_seconds
    moment = datetime.now(UTC) - timedelta(minutes=30)
    slot_start = moment.timestamp() // interval * interval
    waited: list[float] = []

    async def wait_until(due: float) -> None:
        waited.append(due)

    published = await generate_demo_metrics(
        monitor.broker, monitor.db, monitor.settings, moment, wait_until
    )
    assert len(waited) == published and waited == sorted(waited)
    for tenant_id in tenant_ids:
        assert slot_start + offset_in_slot(tenant_id, interval) in waited
        assert await stored(monitor, ask, tenant_id, moment)
