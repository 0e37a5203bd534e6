"""The gateway's event hub against a real NATS server: a subscription per subject clients ask
for, shared while somebody asks, each event to each client once. The server is this module's
own: these tests count what every wildcard subscription receives, and a system another test left
running publishes on the same subjects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import nats
import pytest
from nats.aio.client import Client

from services.gateway.events import BrokerUnavailableError, EventHub, Subscriber
from shared.embedded import NatsServer, free_port
from shared.modes import Mode

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = NatsServer(free_port(), free_port(), tmp_path_factory.mktemp("relay-nats"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
async def publisher(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    yield client
    await client.close()


@pytest.fixture
async def hub(nats_url: str) -> AsyncIterator[EventHub]:
    client = await nats.connect(nats_url)
    events = EventHub()
    await events.start(client)
    yield events
    await client.close()


async def publish(client: Client, tenant: str, name: str, revision: int = 1) -> None:
    await client.publish(
        f"ecp.demo.evt.{tenant}.{name}", json.dumps({"revision": revision}).encode()
    )


async def settled(publisher: Client, hub: EventHub) -> None:
    """Everything published so far has reached the hub's callbacks."""
    await publisher.flush()
    assert hub.connection is not None
    await hub.connection.flush()  # its answer comes after what the server sent before it
    for _ in range(5):
        await asyncio.sleep(0.02)


def received(subscriber: Subscriber) -> list[tuple[str, str]]:
    got: list[dict[str, Any]] = []
    while not subscriber.queue.empty():
        got.append(subscriber.queue.get_nowait())
    return [(event["tenant_id"], event["event"]) for event in got]


async def test_each_client_gets_an_event_once_however_subscriptions_overlap(publisher, hub):
    exact = await hub.subscribe(Mode.demo, None, frozenset({"deployment.succeeded"}))
    aggregate = await hub.subscribe(
        Mode.demo, None, frozenset({"deployment.*", "deployment.succeeded"})
    )
    everything = await hub.subscribe(Mode.demo, None)
    one_tenant = await hub.subscribe(Mode.demo, "acme", None)
    sized = await hub.subscribe(Mode.demo, None, frozenset({"tenant.sized"}))  # the waiters' too
    waited = hub.expect(Mode.demo, "acme", 1, {"tenant.sized"})

    for name in ("deployment.progress", "deployment.succeeded", "tenant.sized"):
        await publish(publisher, "acme", name)
    await publish(publisher, "other", "deployment.succeeded")
    await settled(publisher, hub)

    assert received(exact) == [("acme", "deployment.succeeded"), ("other", "deployment.succeeded")]
    assert received(aggregate) == [
        ("acme", "deployment.progress"),
        ("acme", "deployment.succeeded"),
        ("other", "deployment.succeeded"),
    ]
    assert received(everything) == [
        ("acme", "deployment.progress"),
        ("acme", "deployment.succeeded"),
        ("acme", "tenant.sized"),
        ("other", "deployment.succeeded"),
    ]
    assert received(one_tenant) == [
        ("acme", "deployment.progress"),
        ("acme", "deployment.succeeded"),
        ("acme", "tenant.sized"),
    ]
    assert received(sized) == [("acme", "tenant.sized")]
    assert (await waited).name == "tenant.sized"


async def test_a_subject_is_subscribed_while_a_client_asks_for_it(publisher, hub):
    subject = "ecp.demo.evt.*.deployment.failed"
    first = await hub.subscribe(Mode.demo, None, frozenset({"deployment.failed"}))
    second = await hub.subscribe(Mode.demo, None, frozenset({"deployment.failed"}))
    subscription = hub.interests[subject].subscription
    await hub.unsubscribe(first)
    assert hub.interests[subject].subscription is subscription  # still the second's
    await publish(publisher, "acme", "deployment.failed")
    await settled(publisher, hub)
    assert received(second) == [("acme", "deployment.failed")]
    assert received(first) == []

    await hub.unsubscribe(second)
    assert subject not in hub.interests
    assert subscription is not None and subscription.pending_msgs == 0
    with pytest.raises(nats.errors.BadSubscriptionError):
        await subscription.unsubscribe()  # the server was told already

    # Subscribing again starts a new subscription that sees what comes from then on.
    third = await hub.subscribe(Mode.demo, None, frozenset({"deployment.failed"}))
    await publish(publisher, "acme", "deployment.failed", revision=2)
    await settled(publisher, hub)
    assert received(third) == [("acme", "deployment.failed")]


async def test_waited_events_stay_subscribed_without_clients(publisher, hub):
    client = await hub.subscribe(Mode.prod, None, frozenset({"tenant.deleted"}))
    await hub.unsubscribe(client)
    assert "ecp.prod.evt.*.tenant.deleted" in hub.interests
    waited = hub.expect(Mode.prod, "acme", 3, {"tenant.deleted"})
    await publisher.publish(
        "ecp.prod.evt.acme.tenant.deleted", json.dumps({"revision": 3}).encode()
    )
    assert (await asyncio.wait_for(waited, 5)).tenant_id == "acme"


async def test_events_nobody_asked_for_are_not_delivered(publisher, hub):
    await hub.subscribe(Mode.demo, None, frozenset({"deployment.succeeded"}))
    before = sum(
        interest.subscription.delivered
        for interest in hub.interests.values()
        if interest.subscription is not None
    )
    await publish(publisher, "acme", "manifest.rendered")
    await publish(publisher, "acme", "deployment.progress")
    await settled(publisher, hub)
    after = sum(
        interest.subscription.delivered
        for interest in hub.interests.values()
        if interest.subscription is not None
    )
    assert after == before


async def test_a_client_is_refused_when_the_broker_is_gone(hub):
    assert hub.connection is not None
    await hub.connection.close()
    with pytest.raises(BrokerUnavailableError):
        await hub.subscribe(Mode.demo, None, frozenset({"alert.firing"}))
    assert "ecp.demo.evt.*.alert.firing" not in hub.interests
