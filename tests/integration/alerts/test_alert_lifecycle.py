"""Pending → firing → resolved, keep_firing_for, repeats, silences, staleness and restarts, at
the service level: the evaluator and rpc answers over real PostgreSQL, time moved by the test."""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import uuid4

import pytest

from services.alerts.payloads import verify
from shared.contracts.metrics import MetricBatch, Sample, points_of
from tests.integration.alerts.conftest import World
from tests.integration.alerts.receivers import WebhookReceiver

pytestmark = pytest.mark.integration


@pytest.fixture
async def receiver():
    r = await WebhookReceiver().start()
    yield r
    await r.stop()


def webhook(receiver: WebhookReceiver, secret: str | None = "s3cret") -> dict:
    action = {"type": "webhook", "url": receiver.url, "method": "POST"}
    return {**action, "secret": secret} if secret else action


async def test_rule_goes_pending_then_firing_after_duration_then_resolves(
    world: World, receiver: WebhookReceiver
) -> None:
    rule = await world.create_rule(
        alert_name="high_cpu_usage",
        condition="cpu_usage > 80",
        duration="5m",
        actions=[webhook(receiver)],
    )
    await world.push(cpu_usage=91)
    assert await world.status(rule) == "pending"
    world.clock.advance(299)
    await world.push(cpu_usage=95)
    assert await world.status(rule) == "pending"
    assert await world.history() == []
    world.clock.advance(1)
    await world.push(cpu_usage=96)
    assert await world.status(rule) == "firing"
    assert [(h["status"], h["sequence"]) for h in await world.history()] == [("firing", 1)]
    assert [e[0] for e in world.events] == ["alert.firing"]
    assert world.events[0][2] == f"alert.firing:{rule['rule_id']}:1"
    assert await world.delivery.deliver_due(world.mode) == 1
    sent = receiver.delivered[0]
    assert verify(sent.body, "s3cret", sent.headers["x-ecp-signature"])
    payload = json.loads(sent.body)
    assert payload["version"] == "4" and payload["status"] == "firing"
    assert payload["alerts"][0]["labels"]["alertname"] == "high_cpu_usage"
    assert payload["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z"

    world.clock.advance(30)
    await world.push(cpu_usage=40)
    assert await world.status(rule) == "inactive"
    assert [h["status"] for h in await world.history()] == ["firing", "resolved"]
    assert await world.delivery.deliver_due(world.mode) == 1
    resolved = receiver.json()
    assert resolved["status"] == "resolved"
    assert resolved["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"
    assert [e[0] for e in world.events] == ["alert.firing", "alert.resolved"]


async def test_condition_that_stops_before_duration_never_fires(world: World) -> None:
    rule = await world.create_rule(alert_name="cpu", condition="cpu_usage > 80", duration="1m")
    await world.push(cpu_usage=90)
    world.clock.advance(30)
    await world.push(cpu_usage=10)
    world.clock.advance(60)
    await world.push(cpu_usage=10)
    assert await world.status(rule) == "inactive"
    assert await world.history() == []


async def test_keep_firing_for_holds_the_alert_after_the_condition_clears(
    world: World,
) -> None:
    rule = await world.create_rule(
        alert_name="cpu", condition="cpu_usage > 80", duration="0s", keep_firing_for="2m"
    )
    await world.push(cpu_usage=90)
    assert await world.status(rule) == "firing"
    world.clock.advance(10)
    await world.push(cpu_usage=10)
    world.clock.advance(119)
    await world.push(cpu_usage=10)
    assert await world.status(rule) == "firing"
    world.clock.advance(1)
    await world.push(cpu_usage=10)
    assert await world.status(rule) == "inactive"
    assert [h["status"] for h in await world.history()] == ["firing", "resolved"]


async def test_firing_alert_repeats_after_repeat_interval_only(
    world: World, receiver: WebhookReceiver
) -> None:
    await world.create_rule(
        alert_name="cpu",
        condition="cpu_usage > 80",
        repeat_interval="1m",
        actions=[webhook(receiver)],
    )
    await world.push(cpu_usage=90)
    world.clock.advance(59)
    await world.push(cpu_usage=90)
    await world.evaluator.tick()
    assert [n["repeat"] for n in await world.notifications()] == [0]
    world.clock.advance(1)
    await world.evaluator.tick()
    world.clock.advance(60)
    await world.evaluator.tick()
    assert [n["repeat"] for n in await world.notifications()] == [0, 1, 2]
    assert await world.delivery.deliver_due(world.mode) == 3
    assert [json.loads(r.body)["ecp"]["repeat"] for r in receiver.delivered] == [0, 1, 2]
    assert len({e[2] for e in world.events}) == 1  # one alert.firing event for the episode


async def test_silenced_alert_is_recorded_but_not_sent_until_the_silence_expires(
    world: World, receiver: WebhookReceiver
) -> None:
    await world.create_rule(
        alert_name="cpu",
        condition="cpu_usage > 80",
        repeat_interval="1m",
        actions=[webhook(receiver)],
    )
    reply = await world.api.silences(
        {
            "op": "create",
            "tenant_id": world.tenant,
            "body": {"matchers": [{"name": "alert_name", "value": "cpu"}], "duration": "1h"},
        }
    )
    assert reply["ok"] and reply["data"]["status"] == "active"
    await world.push(cpu_usage=90)
    assert await world.delivery.deliver_due(world.mode) == 0
    [silenced] = await world.notifications()
    assert silenced["state"] == "silenced" and silenced["silence_id"] == reply["data"]["silence_id"]
    assert [h["status"] for h in await world.history()] == ["firing"]

    expired = await world.api.silences(
        {"op": "expire", "tenant_id": world.tenant, "key": reply["data"]["silence_id"]}
    )
    assert expired["data"]["status"] == "expired"
    world.clock.advance(60)
    await world.evaluator.tick()
    assert await world.delivery.deliver_due(world.mode) == 1
    assert receiver.json()["ecp"]["repeat"] == 1


async def test_silence_matching_other_labels_does_not_silence(world: World, receiver) -> None:
    await world.create_rule(
        alert_name="cpu", condition="cpu_usage > 80", actions=[webhook(receiver)]
    )
    await world.api.silences(
        {
            "op": "create",
            "tenant_id": world.tenant,
            "body": {"matchers": [{"name": "severity", "value": "critical"}], "duration": "1h"},
        }
    )
    await world.push(cpu_usage=90)
    assert await world.delivery.deliver_due(world.mode) == 1


async def test_firing_alert_resolves_when_samples_stop_arriving(world: World) -> None:
    rule = await world.create_rule(alert_name="cpu", condition="cpu_usage > 80")
    await world.push(cpu_usage=90)
    world.clock.advance(world.settings.alert_stale_after_seconds)
    await world.evaluator.tick()
    assert await world.status(rule) == "firing"
    world.clock.advance(1)
    await world.evaluator.tick()
    assert await world.status(rule) == "inactive"
    assert [h["status"] for h in await world.history()] == ["firing", "resolved"]


async def test_rule_on_a_missing_series_stays_inactive(world: World) -> None:
    rule = await world.create_rule(alert_name="gpu", condition="gpu_usage > 80")
    await world.push(cpu_usage=99)
    world.clock.advance(600)
    await world.evaluator.tick()
    assert await world.status(rule) == "inactive"


async def test_firing_alert_stays_firing_across_a_restart_and_is_not_notified_again(
    world: World, receiver: WebhookReceiver
) -> None:
    rule = await world.create_rule(
        alert_name="cpu", condition="cpu_usage > 80", actions=[webhook(receiver)]
    )
    await world.push(cpu_usage=90)
    assert await world.delivery.deliver_due(world.mode) == 1

    await world.restart()
    assert await world.status(rule) == "firing"
    world.clock.advance(5)
    await world.evaluator.tick()  # no samples yet after the restart: not judged on them
    assert await world.status(rule) == "firing"
    await world.push(cpu_usage=93)
    assert await world.status(rule) == "firing"
    assert await world.delivery.deliver_due(world.mode) == 0
    assert [h["status"] for h in await world.history()] == ["firing"]
    world.clock.advance(10)
    await world.push(cpu_usage=20)
    assert [h["status"] for h in await world.history()] == ["firing", "resolved"]
    assert await world.delivery.deliver_due(world.mode) == 1
    assert [json.loads(r.body)["status"] for r in receiver.delivered] == ["firing", "resolved"]


async def test_pending_rule_keeps_its_start_across_a_restart(world: World) -> None:
    rule = await world.create_rule(alert_name="cpu", condition="cpu_usage > 80", duration="1m")
    await world.push(cpu_usage=90)
    await world.restart()
    world.clock.advance(60)
    await world.push(cpu_usage=90)
    assert await world.status(rule) == "firing"


async def test_default_rules_are_not_shown_with_secrets(world: World, receiver) -> None:
    rule = await world.create_rule(
        alert_name="cpu", condition="cpu_usage > 80", actions=[webhook(receiver, "topsecret")]
    )
    assert rule["actions"][0]["secret"] == "***"
    listed = await world.api.rules({"op": "list", "tenant_id": world.tenant})
    assert "topsecret" not in json.dumps(listed)
    notes = await world.api.notifications({"tenant_id": world.tenant})
    assert "topsecret" not in json.dumps(notes)


async def test_pods_sampled_at_one_moment_are_judged_by_their_mean(world: World) -> None:
    rule = await world.create_rule(alert_name="cpu", condition="cpu_usage > 80")
    at = world.clock.datetime()
    pods = [Sample(name="cpu_usage", value=v, timestamp=at, labels={"pod": f"p-{v}"})
            for v in (60.0, 95.0)]  # fmt: skip
    batch = MetricBatch(tenant_id=world.tenant, batch_id=uuid4().hex, samples=pods)
    await world.evaluator.on_points([points_of(batch.model_dump())])
    assert await world.status(rule) == "inactive"  # mean 77.5, though the last pod is at 95

    world.clock.advance(1)  # another pod's samples of the same moment arrive a second later

    hot = [Sample(name="cpu_usage", value=v, timestamp=at, labels={"pod": f"p-{v}"})
           for v in (60.0, 99.0, 90.0)]  # fmt: skip
    batch = MetricBatch(tenant_id=world.tenant, batch_id=uuid4().hex, samples=hot)
    await world.evaluator.on_points([points_of(batch.model_dump())])
    assert await world.status(rule) == "firing"  # mean 83 replaces the moment's value


async def test_a_round_of_messages_is_judged_once_at_its_newest_moment(world: World) -> None:
    """A consumer round's messages are all kept, then judged once: the latest value decides a
    plain comparison, and a spike inside the round is still seen by a window function."""
    latest = await world.create_rule(alert_name="cpu", condition="cpu_usage > 80")
    peak = await world.create_rule(alert_name="cpu_peak", condition="max(cpu_usage[1m]) > 80")
    at = world.clock.datetime()
    messages = [
        MetricBatch(
            tenant_id=world.tenant,
            batch_id=uuid4().hex,
            samples=[Sample(name="cpu_usage", value=v, timestamp=at + timedelta(seconds=i))],
        ).model_dump()
        for i, v in enumerate((95.0, 50.0))
    ]
    world.clock.advance(1)
    await world.evaluator.on_points([points_of(m) for m in messages])
    assert await world.status(latest) == "inactive"
    assert await world.status(peak) == "firing"
    assert [h["alert_name"] for h in await world.history()] == ["cpu_peak"]
