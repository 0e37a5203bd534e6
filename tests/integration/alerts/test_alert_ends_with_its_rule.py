"""An alert whose rule is deleted or disabled while it fires resolves: one `resolved`
notification through the outbox, like any resolution, delivered after a restart too."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from services.alerts.payloads import ZERO_TIME
from shared.contracts.metrics import MetricBatch, Sample, points_of
from tests.integration.alerts.conftest import World
from tests.integration.alerts.receivers import WebhookReceiver

pytestmark = pytest.mark.integration


@pytest.fixture
async def receiver():
    r = await WebhookReceiver().start()
    yield r
    await r.stop()


async def firing_rule(world: World, receiver: WebhookReceiver, **extra: Any) -> dict[str, Any]:
    action = {"type": "webhook", "url": receiver.url, "secret": "k"}
    rule = await world.create_rule(
        alert_name="cpu", condition="cpu_usage > 80", actions=[action], **extra
    )
    await world.push(cpu_usage=90)
    assert await world.status(rule) == "firing"
    assert await world.delivery.deliver_due(world.mode) == 1
    return rule


async def change(world: World, rule: dict[str, Any], op: str, body: Any = None) -> dict:
    request = {"op": op, "tenant_id": world.tenant, "key": rule["rule_id"], "body": body}
    return await world.rpc("rules", request)


def iso_z(world: World) -> str:
    return world.clock.datetime().isoformat().replace("+00:00", "Z")


async def test_deleting_a_firing_rule_sends_one_resolved_notification_after_a_restart(
    world: World, receiver: WebhookReceiver
) -> None:
    rule = await firing_rule(world, receiver, repeat_interval="1m")
    world.clock.advance(30)
    deleted_at = iso_z(world)
    assert (await change(world, rule, "delete"))["data"]["deleted"] is True

    await world.restart()  # the resolution waits in the outbox, not in a process
    assert await world.delivery.deliver_due(world.mode) == 1
    world.clock.advance(120)  # past the repeat interval and the stale limit
    await world.push(cpu_usage=95)
    await world.evaluator.tick()
    assert (await change(world, rule, "delete"))["status"] == 404
    assert await world.delivery.deliver_due(world.mode) == 0

    firing, resolved = (json.loads(r.body) for r in receiver.delivered)
    assert resolved["status"] == "resolved" and resolved["alerts"][0]["status"] == "resolved"
    assert resolved["alerts"][0]["endsAt"] == deleted_at != ZERO_TIME
    for key in ("startsAt", "fingerprint", "labels"):
        assert resolved["alerts"][0][key] == firing["alerts"][0][key]
    assert resolved["ecp"]["sequence"] == firing["ecp"]["sequence"] == 1
    assert [h["status"] for h in await world.history()] == ["firing", "resolved"]
    assert [e[2] for e in world.events] == [
        f"alert.firing:{rule['rule_id']}:1",
        f"alert.resolved:{rule['rule_id']}:1",
    ]


async def test_a_batch_waiting_on_a_deletion_does_not_bring_the_rule_back(
    world: World, receiver: WebhookReceiver
) -> None:
    await world.create_rule(alert_name="other", condition="cpu_usage > 99")  # keeps the window
    rule = await firing_rule(world, receiver)
    # Stamped ahead of the service's clock, so it counts as later than the deletion.
    ahead = world.clock.datetime() + timedelta(seconds=5)
    batch = MetricBatch(
        tenant_id=world.tenant,
        batch_id=uuid4().hex,
        samples=[Sample(name="cpu_usage", value=95.0, timestamp=ahead)],
    )
    await asyncio.gather(
        change(world, rule, "delete"), world.evaluator.on_points([points_of(batch.model_dump())])
    )
    assert await world.delivery.deliver_due(world.mode) == 1
    assert [json.loads(r.body)["status"] for r in receiver.delivered] == ["firing", "resolved"]
    assert [(n["status"], n["sequence"]) for n in await world.notifications()] == [
        ("firing", 1),
        ("resolved", 1),
    ]


async def test_disabling_a_firing_rule_resolves_it_once_and_enabling_starts_a_new_episode(
    world: World, receiver: WebhookReceiver
) -> None:
    rule = await firing_rule(world, receiver)
    world.clock.advance(10)
    disabled = await change(world, rule, "patch", {"enabled": False})
    assert disabled["data"]["state"]["status"] == "inactive"
    assert await world.delivery.deliver_due(world.mode) == 1
    assert receiver.json()["status"] == "resolved"
    assert receiver.json()["alerts"][0]["endsAt"] == iso_z(world)

    world.clock.advance(10)
    await world.push(cpu_usage=95)  # still above, but the rule is off
    await world.restart()
    await world.evaluator.tick()
    assert await world.status(rule) == "inactive"
    assert await world.delivery.deliver_due(world.mode) == 0

    await change(world, rule, "patch", {"enabled": True})
    world.clock.advance(10)
    await world.push(cpu_usage=95)
    assert await world.delivery.deliver_due(world.mode) == 1
    sent = [json.loads(r.body) for r in receiver.delivered]
    assert [(s["status"], s["ecp"]["sequence"]) for s in sent] == [
        ("firing", 1),
        ("resolved", 1),
        ("firing", 2),
    ]


async def test_disabling_a_pending_rule_cancels_it_without_a_notification(
    world: World, receiver: WebhookReceiver
) -> None:
    action = {"type": "webhook", "url": receiver.url}
    rule = await world.create_rule(
        alert_name="cpu", condition="cpu_usage > 80", duration="5m", actions=[action]
    )
    await world.push(cpu_usage=90)
    assert await world.status(rule) == "pending"
    await change(world, rule, "patch", {"enabled": False})
    assert await world.status(rule) == "inactive"
    world.clock.advance(600)
    await world.evaluator.tick()
    assert await world.delivery.deliver_due(world.mode) == 0
    assert await world.history() == []
