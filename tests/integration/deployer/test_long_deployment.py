"""A deployment that takes longer than JetStream's ack wait keeps its message alive: the message
is delivered once and the tenant deployed once. The NATS server is this module's own, so the
short ack wait it sets on the deployer's consumer reaches no other test."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import nats
import pytest

from services.deployer.app import build
from shared import subjects
from shared.contracts.manifests import ManifestRendered
from shared.embedded import NatsServer, free_port
from shared.modes import Mode
from shared.settings import Settings
from tests.integration.deployer.conftest import Events, publish
from tests.integration.deployer.objects import tenant_objects

pytestmark = pytest.mark.integration

ACK_WAIT_SECONDS = 1.0


@pytest.fixture(scope="module")
def own_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = NatsServer(free_port(), free_port(), tmp_path_factory.mktemp("long-deploy-nats"))
    server.start()
    yield server.url
    server.stop()


async def test_a_deployment_longer_than_the_ack_wait_is_delivered_and_run_once(
    deployer_settings: Settings, own_nats: str
) -> None:
    settings = deployer_settings.model_copy(
        update={
            "nats_url": own_nats,
            "ack_wait_seconds": ACK_WAIT_SECONDS,
            "rollout_seconds_per_replica": 1.0,
        }
    )
    runtime = build(settings)
    await runtime.start()
    nc = await nats.connect(own_nats)
    try:
        tenant = f"long-{uuid.uuid4().hex[:8]}"
        events = await Events(nc, Mode.demo, tenant).start()
        rendered = ManifestRendered(
            tenant_id=tenant,
            revision=1,
            content_hash="ef" * 32,
            preset="small",
            objects=tenant_objects(tenant, {"chatbot": 3}),
        )
        began = time.monotonic()
        await publish(nc, Mode.demo, tenant, "evt", "manifest.rendered", rendered, f"mr:{tenant}")
        outcome, _ = await events.until({"deployment.succeeded", "deployment.failed"}, wait=30)
        took = time.monotonic() - began
        consumer = await nc.jetstream().consumer_info(
            subjects.stream_name(Mode.demo, "evt"), "deployer-demo-manifest"
        )
    finally:
        await nc.close()
        await runtime.stop()
    assert outcome == "deployment.succeeded"
    assert took > 2 * ACK_WAIT_SECONDS  # what this test is about: a rollout past the ack wait
    assert consumer.num_redelivered == 0
    assert [name for name, _ in events.seen].count("deployment.started") == 1
