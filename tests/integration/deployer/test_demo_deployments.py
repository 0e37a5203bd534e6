"""Demo deployments on the virtual cluster, driven over real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client

from services.deployer.app import build
from shared.contracts.deployments import DeployTenant
from shared.contracts.manifests import ManifestRendered
from shared.contracts.tenants import TenantDeleted
from shared.modes import Mode
from shared.settings import Settings
from tests.integration.deployer.conftest import Events, ask, publish
from tests.integration.deployer.objects import tenant_objects

MODE = Mode.demo


@pytest.fixture(scope="module")
async def deployer(deployer_settings: Settings) -> AsyncIterator[None]:
    runtime = build(deployer_settings)
    await runtime.start()
    yield
    await runtime.stop()


def tid() -> str:
    return f"demo-{uuid.uuid4().hex[:8]}"


async def render(
    nc: Client, tenant_id: str, revision: int, objects: list, auto_deploy: bool | None = None
) -> str:
    event = ManifestRendered(
        tenant_id=tenant_id,
        revision=revision,
        content_hash=uuid.uuid4().hex,
        preset="small",
        objects=objects,
        auto_deploy=auto_deploy,
    )
    await publish(
        nc, MODE, tenant_id, "evt", "manifest.rendered", event, f"mr:{tenant_id}:{revision}"
    )
    return event.content_hash


async def test_a_tenant_that_fits_runs_with_every_step_reported(deployer: None, nc: Client) -> None:
    tenant = tid()
    events = await Events(nc, MODE, tenant).start()
    await render(nc, tenant, 1, tenant_objects(tenant, {"chatbot": 2, "stt": 1}))
    name, done = await events.until({"deployment.succeeded", "deployment.failed"})
    assert name == "deployment.succeeded", done
    names = [n for n, _ in events.seen]
    assert names[0] == "deployment.started"
    steps = [
        d["step"] for n, d in events.seen if n == "deployment.progress" and d["status"] == "ok"
    ]
    assert steps[:5] == ["validate", "dry-run", "namespace", "quota", "config"]
    assert {"workload/chatbot", "workload/stt", "rollout/chatbot", "rollout/stt"} <= set(steps)
    assert steps[-1] == "done"
    assert all(d["revision"] == 1 for _, d in events.seen)

    status = await ask(nc, MODE, "status", {"tenant_id": tenant})
    assert status["state"] == "succeeded"
    assert status["revision"] == 1
    assert len(status["placement"]["pods"]) == 3
    assert status["placement"]["nodes"]
    deployments = [o for o in status["objects"] if o["kind"] == "Deployment"]
    assert {o["status"] for o in deployments} == {"ready"}
    cluster = await ask(nc, MODE, "cluster", {})
    assert any(tenant in node["tenants"] for node in cluster["nodes"])


async def test_a_tenant_needing_more_gpus_than_the_cluster_fails_with_the_scheduler_reason(
    deployer: None, nc: Client
) -> None:
    tenant = tid()
    events = await Events(nc, MODE, tenant).start()
    # The default virtual cluster has 12 GPUs in all.
    await render(nc, tenant, 1, tenant_objects(tenant, {"tts": 13}, gpus=1))
    name, done = await events.until({"deployment.succeeded", "deployment.failed"})
    assert name == "deployment.failed"
    assert done["reason"].startswith("0/7 nodes are available: ")
    assert "Insufficient nvidia.com/gpu" in done["reason"]
    status = await ask(nc, MODE, "status", {"tenant_id": tenant})
    assert status["state"] == "failed"
    assert status["placement"]["pods"] == []
    cluster = await ask(nc, MODE, "cluster", {})
    assert not any(tenant in node["tenants"] for node in cluster["nodes"])


async def test_deletion_releases_the_capacity_the_tenant_held(deployer: None, nc: Client) -> None:
    tenant = tid()
    events = await Events(nc, MODE, tenant).start()
    await render(nc, tenant, 1, tenant_objects(tenant, {"tts": 2}, gpus=1))
    name, _ = await events.until({"deployment.succeeded", "deployment.failed"})
    assert name == "deployment.succeeded"
    before = await ask(nc, MODE, "cluster", {})
    held = sum(n["gpus_allocated"] for n in before["nodes"] if tenant in n["tenants"])
    assert held == 2

    await publish(
        nc,
        MODE,
        tenant,
        "evt",
        "tenant.deleted",
        TenantDeleted(tenant_id=tenant, revision=2),
        f"td:{tenant}",
    )
    await events.until({"deployment.deleted"})
    after = await ask(nc, MODE, "cluster", {})
    assert not any(tenant in node["tenants"] for node in after["nodes"])
    assert sum(n["gpus_allocated"] for n in after["nodes"]) == (
        sum(n["gpus_allocated"] for n in before["nodes"]) - 2
    )
    assert (await ask(nc, MODE, "status", {"tenant_id": tenant}))["state"] == "deleted"
    # A manifest of the deleted revision arriving late deploys nothing.
    await render(nc, tenant, 1, tenant_objects(tenant, {"tts": 2}, gpus=1))
    await asyncio.sleep(0.5)
    assert [n for n, _ in events.seen].count("deployment.started") == 1


async def test_two_tenants_deploying_at_once_both_keep_their_placement(
    deployer: None, nc: Client
) -> None:
    tenants = [tid() for _ in range(4)]
    logs = [await Events(nc, MODE, t).start() for t in tenants]
    await asyncio.gather(
        *(render(nc, t, 1, tenant_objects(t, {"chatbot": 3, "stt": 2})) for t in tenants)
    )
    for log in logs:
        name, done = await log.until({"deployment.succeeded", "deployment.failed"})
        assert name == "deployment.succeeded", done
    cluster = await ask(nc, MODE, "cluster", {})
    pods = {t: sum(1 for n in cluster["nodes"] if t in n["tenants"]) for t in tenants}
    assert all(pods.values()), pods
    for t in tenants:
        status = await ask(nc, MODE, "status", {"tenant_id": t})
        assert len(status["placement"]["pods"]) == 5


async def test_without_auto_deploy_a_manifest_waits_for_the_deploy_command(
    deployer: None, nc: Client
) -> None:
    tenant = tid()
    events = await Events(nc, MODE, tenant).start()
    await render(nc, tenant, 1, tenant_objects(tenant), auto_deploy=False)
    await asyncio.sleep(0.5)
    assert events.seen == []
    command = DeployTenant(tenant_id=tenant, revision=1, deployment_id="dep-manual-1")
    # The same command twice (a duplicate the server cannot dedupe): one deployment.
    for attempt in range(2):
        await publish(
            nc, MODE, tenant, "cmd", "deployment.deploy", command, f"dd:{tenant}:{attempt}"
        )
    await events.until({"deployment.succeeded"}, "dep-manual-1")
    await asyncio.sleep(0.5)
    assert [n for n, _ in events.seen].count("deployment.started") == 1
    status = await ask(nc, MODE, "status", {"tenant_id": tenant})
    assert [h["deployment_id"] for h in status["history"]] == ["dep-manual-1"]


async def test_a_redelivered_manifest_deploys_once(deployer: None, nc: Client) -> None:
    tenant = tid()
    events = await Events(nc, MODE, tenant).start()
    objects = tenant_objects(tenant)
    event = ManifestRendered(
        tenant_id=tenant, revision=1, content_hash="c0ffee" * 8, preset="small", objects=objects
    )
    for attempt in range(3):
        await publish(nc, MODE, tenant, "evt", "manifest.rendered", event, f"mr:{tenant}:{attempt}")
    await events.until({"deployment.succeeded"})
    await asyncio.sleep(0.5)
    assert [n for n, _ in events.seen].count("deployment.started") == 1
    status = await ask(nc, MODE, "status", {"tenant_id": tenant})
    assert len(status["history"]) == 1
