"""Prod without a cluster configured: the deployment fails and says so; nothing is simulated."""

from __future__ import annotations

import uuid

from nats.aio.client import Client

from services.deployer.app import build
from shared.contracts.manifests import ManifestRendered
from shared.modes import Mode
from shared.settings import Settings
from tests.integration.deployer.conftest import Events, ask, publish
from tests.integration.deployer.objects import tenant_objects


async def test_a_prod_deployment_without_a_cluster_fails_saying_so(
    deployer_settings: Settings, nc: Client
) -> None:
    runtime = build(deployer_settings)
    await runtime.start()
    try:
        tenant = f"prod-{uuid.uuid4().hex[:8]}"
        events = await Events(nc, Mode.prod, tenant).start()
        event = ManifestRendered(
            tenant_id=tenant,
            revision=1,
            content_hash="ab" * 32,
            preset="small",
            objects=tenant_objects(tenant),
            auto_deploy=True,
        )
        await publish(nc, Mode.prod, tenant, "evt", "manifest.rendered", event, f"mr:{tenant}")
        name, done = await events.until({"deployment.succeeded", "deployment.failed"})
        assert name == "deployment.failed"
        assert "no Kubernetes cluster is configured" in done["reason"]
        assert "never falls back to the simulation" in done["reason"]
        status = await ask(nc, Mode.prod, "status", {"tenant_id": tenant})
        assert status["state"] == "failed" and status["placement"] is None
    finally:
        await runtime.stop()
