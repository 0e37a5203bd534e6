"""Prod deployments with the official kubernetes client against an in-process API server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client

from services.deployer.app import build
from shared.contracts.deployments import DeployTenant, RollbackTenant
from shared.contracts.manifests import ManifestRendered
from shared.contracts.tenants import TenantDeleted
from shared.modes import Mode
from shared.settings import Settings
from tests.integration.deployer.conftest import Events, ask, publish
from tests.integration.deployer.fake_kube import FakeKube
from tests.integration.deployer.objects import namespace_of, tenant_objects

MODE = Mode.prod
SETTLED = {"deployment.succeeded", "deployment.failed", "deployment.rolled-back"}


@pytest.fixture(scope="module")
async def kube(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FakeKube]:
    server = FakeKube()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
async def deployer(
    deployer_settings: Settings, kube: FakeKube, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[None]:
    config = kube.write_kubeconfig(Path(tmp_path_factory.mktemp("kube")) / "config")
    runtime = build(deployer_settings.model_copy(update={"kubernetes_config_path": str(config)}))
    await runtime.start()
    yield
    await runtime.stop()


def tid() -> str:
    return f"prod-{uuid.uuid4().hex[:8]}"


async def render(nc: Client, tenant: str, revision: int, objects: list[dict[str, Any]]) -> None:
    event = ManifestRendered(
        tenant_id=tenant,
        revision=revision,
        content_hash=uuid.uuid4().hex,
        preset="small",
        objects=objects,
        auto_deploy=False,
    )
    await publish(nc, MODE, tenant, "evt", "manifest.rendered", event, f"mr:{tenant}:{revision}")


async def deploy(
    nc: Client, events: Events, tenant: str, revision: int
) -> tuple[str, dict[str, Any]]:
    deployment_id = f"dep-{uuid.uuid4().hex[:8]}"
    command = DeployTenant(tenant_id=tenant, revision=revision, deployment_id=deployment_id)
    await publish(nc, MODE, tenant, "cmd", "deployment.deploy", command, deployment_id)
    return await events.until(SETTLED, deployment_id)


async def test_a_first_apply_creates_every_object_with_server_side_apply(
    deployer: None, kube: FakeKube, nc: Client
) -> None:
    tenant = tid()
    ns = namespace_of(tenant)
    events = await Events(nc, MODE, tenant).start()
    await render(nc, tenant, 1, tenant_objects(tenant))
    name, done = await deploy(nc, events, tenant, 1)
    assert name == "deployment.succeeded", done.get("reason")

    assert kube.find("Namespace", ns) is not None
    assert kube.names("Deployment", ns) == {"chatbot", "stt"}
    assert kube.names("Service", ns) == {"chatbot", "stt"}
    assert kube.find("ResourceQuota", "tenant-quota", ns) is not None
    writes = [c for c in kube.calls if c.method == "PATCH" and c.namespace in (ns, "")]
    assert {c.field_manager for c in writes} == {"ecp-orchestrator"}
    dry = [c for c in writes if c.dry_run]
    assert {(c.kind, c.name) for c in dry} >= {("Deployment", "chatbot"), ("Service", "stt")}
    real = [(c.kind, c.name) for c in writes if not c.dry_run and c.name != ns]
    # The quota is applied before anything it counts.
    assert real.index(("ResourceQuota", "tenant-quota")) < real.index(("Deployment", "chatbot"))
    steps = [
        d["step"] for n, d in events.seen if n == "deployment.progress" and d["status"] == "ok"
    ]
    assert steps[:5] == ["validate", "dry-run", "namespace", "quota", "config"]
    assert {"rollout/chatbot", "rollout/stt"} <= set(steps) and steps[-1] == "done"
    status = await ask(nc, MODE, "status", {"tenant_id": tenant})
    assert status["state"] == "succeeded" and status["revision"] == 1
    assert {o["status"] for o in status["objects"] if o["kind"] == "Deployment"} == {"ready"}


async def test_reapplying_the_same_revision_changes_nothing(
    deployer: None, kube: FakeKube, nc: Client
) -> None:
    tenant = tid()
    ns = namespace_of(tenant)
    events = await Events(nc, MODE, tenant).start()
    await render(nc, tenant, 1, tenant_objects(tenant))
    assert (await deploy(nc, events, tenant, 1))[0] == "deployment.succeeded"
    versions = {k: o["metadata"]["resourceVersion"] for k, o in kube.objects.items() if ns in k}
    calls_before = len(kube.calls)

    assert (await deploy(nc, events, tenant, 1))[0] == "deployment.succeeded"
    after = {k: o["metadata"]["resourceVersion"] for k, o in kube.objects.items() if ns in k}
    assert after == versions
    reapplied = [c for c in kube.calls[calls_before:] if c.method == "PATCH" and not c.dry_run]
    assert reapplied and not any(c.changed for c in reapplied)


async def test_a_new_revision_prunes_the_service_it_no_longer_has(
    deployer: None, kube: FakeKube, nc: Client
) -> None:
    tenant = tid()
    ns = namespace_of(tenant)
    events = await Events(nc, MODE, tenant).start()
    await render(nc, tenant, 1, tenant_objects(tenant, {"chatbot": 1, "stt": 1}))
    assert (await deploy(nc, events, tenant, 1))[0] == "deployment.succeeded"
    await render(nc, tenant, 2, tenant_objects(tenant, {"chatbot": 2}))
    name, done = await deploy(nc, events, tenant, 2)
    assert name == "deployment.succeeded", done.get("reason")
    assert kube.names("Service", ns) == {"chatbot"}
    assert kube.names("Deployment", ns) == {"chatbot"}
    assert kube.find("Deployment", "chatbot", ns)["spec"]["replicas"] == 2
    assert {(o["kind"], o["name"]) for o in done["objects"] if o["status"] == "pruned"} == {
        ("Service", "stt"),
        ("Deployment", "stt"),
    }


async def test_a_rollback_restores_the_previous_objects(
    deployer: None, kube: FakeKube, nc: Client
) -> None:
    tenant = tid()
    ns = namespace_of(tenant)
    events = await Events(nc, MODE, tenant).start()
    await render(nc, tenant, 1, tenant_objects(tenant, {"chatbot": 1, "stt": 1}))
    assert (await deploy(nc, events, tenant, 1))[0] == "deployment.succeeded"
    await render(nc, tenant, 2, tenant_objects(tenant, {"chatbot": 1}, image_tag="2.0"))
    assert (await deploy(nc, events, tenant, 2))[0] == "deployment.succeeded"
    assert kube.names("Service", ns) == {"chatbot"}

    command = RollbackTenant(tenant_id=tenant, revision=2, deployment_id="rbk-1")
    await publish(nc, MODE, tenant, "cmd", "deployment.rollback", command, f"rb:{tenant}")
    name, done = await events.until(SETTLED, "rbk-1")
    assert name == "deployment.rolled-back", done
    assert kube.names("Service", ns) == {"chatbot", "stt"}
    image = kube.find("Deployment", "chatbot", ns)["spec"]["template"]["spec"]["containers"][0]
    assert image["image"] == "ecp/chatbot:1.0"
    status = await ask(nc, MODE, "status", {"tenant_id": tenant})
    assert status["state"] == "rolled-back" and status["revision"] == 1


async def test_deleting_the_tenant_removes_its_namespace(
    deployer: None, kube: FakeKube, nc: Client
) -> None:
    tenant = tid()
    ns = namespace_of(tenant)
    events = await Events(nc, MODE, tenant).start()
    await render(nc, tenant, 1, tenant_objects(tenant))
    assert (await deploy(nc, events, tenant, 1))[0] == "deployment.succeeded"
    deleted = TenantDeleted(tenant_id=tenant, revision=2)
    await publish(nc, MODE, tenant, "evt", "tenant.deleted", deleted, f"td:{tenant}")
    _, done = await events.until({"deployment.deleted"})
    assert kube.find("Namespace", ns) is None
    assert not [k for k in kube.objects if k[2] == ns]
    assert f"Namespace {ns}" in done["reason"]


async def test_an_api_error_midway_fails_and_a_retry_completes(
    deployer: None, kube: FakeKube, nc: Client
) -> None:
    tenant = tid()
    ns = namespace_of(tenant)
    events = await Events(nc, MODE, tenant).start()
    await render(nc, tenant, 1, tenant_objects(tenant, {"chatbot": 1, "stt": 1}))
    kube.fail("PATCH", "Deployment", "stt", status=500, dry_run=False)
    name, done = await deploy(nc, events, tenant, 1)
    assert name == "deployment.failed"
    # Everything before the failing object was applied.
    assert kube.names("Deployment", ns) == {"chatbot"}
    assert "Deployment" in done["reason"] and "stt" in done["reason"]
    assert "HTTP 500" in done["reason"]
    status = await ask(nc, MODE, "status", {"tenant_id": tenant})
    assert status["state"] == "failed" and status["revision"] == 0

    name, done = await deploy(nc, events, tenant, 1)
    assert name == "deployment.succeeded", done.get("reason")
    assert kube.names("Deployment", ns) == {"chatbot", "stt"}
    status = await ask(nc, MODE, "status", {"tenant_id": tenant})
    assert status["state"] == "succeeded" and status["revision"] == 1
    assert [h["state"] for h in status["history"]] == ["succeeded", "failed"]


async def test_a_rollout_that_never_becomes_ready_fails_after_the_timeout(
    deployer: None, kube: FakeKube, nc: Client
) -> None:
    tenant = tid()
    events = await Events(nc, MODE, tenant).start()
    await render(nc, tenant, 1, tenant_objects(tenant, {"chatbot": 2}))
    kube.auto_ready = False
    try:
        name, done = await deploy(nc, events, tenant, 1)
    finally:
        kube.auto_ready = True
    assert name == "deployment.failed"
    assert "rollout did not finish within 2 s" in done["reason"]
    assert "Deployment" in done["reason"] and "chatbot" in done["reason"]
    waits = [d for n, d in events.seen if d.get("step") == "rollout/chatbot"]
    assert waits and waits[0]["status"] == "waiting"
