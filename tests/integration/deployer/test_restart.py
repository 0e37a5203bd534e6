"""After a restart the deployer still answers with the last deployment and keeps capacity."""

from __future__ import annotations

import uuid

from nats.aio.client import Client

from services.deployer.app import build
from shared.contracts.manifests import ManifestRendered
from shared.modes import Mode
from shared.settings import Settings
from tests.integration.deployer.conftest import Events, ask, publish
from tests.integration.deployer.objects import tenant_objects


async def test_the_last_state_and_the_placement_survive_a_restart(
    deployer_settings: Settings, nc: Client
) -> None:
    tenant = f"restart-{uuid.uuid4().hex[:8]}"
    runtime = build(deployer_settings)
    await runtime.start()
    try:
        events = await Events(nc, Mode.demo, tenant).start()
        event = ManifestRendered(
            tenant_id=tenant,
            revision=1,
            content_hash="cd" * 32,
            preset="small",
            objects=tenant_objects(tenant, {"chatbot": 2}),
        )
        await publish(nc, Mode.demo, tenant, "evt", "manifest.rendered", event, f"mr:{tenant}")
        name, _ = await events.until({"deployment.succeeded", "deployment.failed"})
        assert name == "deployment.succeeded"
        before = await ask(nc, Mode.demo, "status", {"tenant_id": tenant})
    finally:
        await runtime.stop()

    runtime = build(deployer_settings)
    await runtime.start()
    try:
        after = await ask(nc, Mode.demo, "status", {"tenant_id": tenant})
        cluster = await ask(nc, Mode.demo, "cluster", {})
    finally:
        await runtime.stop()
    assert after["state"] == "succeeded" and after["revision"] == 1
    assert after["history"] == before["history"]
    assert after["placement"] == before["placement"]
    assert sum(1 for n in cluster["nodes"] if tenant in n["tenants"]) >= 1
