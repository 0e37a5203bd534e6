"""The alerts service in-process over real NATS: rpc, default rules from `tenant.sized`,
metric batches from the durable consumer, `alert.firing` events and webhooks."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from uuid import uuid4

import nats
import pytest

from services.alerts.app import build
from shared import subjects
from shared.bus import MSG_ID_HEADER
from shared.modes import Mode
from shared.settings import Settings
from tests.integration.alerts.receivers import WebhookReceiver

pytestmark = pytest.mark.integration
MODE = Mode.demo


@pytest.fixture(scope="module")
async def service(alert_settings: Settings):
    runtime = build(alert_settings, tick_s=0.2)
    await runtime.start()
    client = await nats.connect(alert_settings.nats_url)
    yield client
    await client.close()
    await runtime.stop()


async def rpc(client, query: str, request: dict) -> dict:
    reply = await client.request(
        subjects.rpc(MODE, "alerts", query), json.dumps(request).encode(), timeout=5
    )
    return json.loads(reply.data)


async def publish(client, subject: str, body: dict, msg_id: str) -> None:
    js = client.jetstream()
    await js.publish(subject, json.dumps(body).encode(), headers={MSG_ID_HEADER: msg_id})


async def test_sized_tenant_gets_default_rules_from_its_thresholds(service) -> None:
    tenant = f"t-{uuid4().hex[:8]}"
    thresholds = {
        "cpu_percent": 75.0,
        "memory_percent": 80.0,
        "gpu_percent": 85.0,
        "disk_percent": 90.0,
        "response_time_ms": 200.0,
    }
    body = {"tenant_id": tenant, "revision": 1, "sizing": {"alert_thresholds": thresholds}}
    await publish(service, subjects.event(MODE, tenant, "tenant", "sized"), body, uuid4().hex)
    for _ in range(50):
        listed = await rpc(service, "rules", {"op": "list", "tenant_id": tenant})
        if listed["data"]["total_count"] == 5:
            break
        await asyncio.sleep(0.1)
    rules = {r["alert_name"]: r for r in listed["data"]["rules"]}
    assert rules["default_high_cpu_usage"]["condition"] == "cpu_usage > 75"
    assert rules["default_slow_responses"]["condition"] == "response_time > 200"
    assert all(r["default"] for r in rules.values())


async def test_default_rules_made_again_after_a_delete_get_new_ids(service) -> None:
    """History and notifications are keyed by (rule, episode): a re-created tenant's rules must
    not reuse the ids whose episodes are already recorded, or their alerts would be dropped."""
    tenant = f"t-{uuid4().hex[:8]}"
    sized = subjects.event(MODE, tenant, "tenant", "sized")

    async def default_rule_ids(revision: int) -> set[str]:
        body = {"tenant_id": tenant, "revision": revision,
                "sizing": {"alert_thresholds": {"cpu_percent": 75.0}}}  # fmt: skip
        await publish(service, sized, body, uuid4().hex)
        for _ in range(50):
            listed = await rpc(service, "rules", {"op": "list", "tenant_id": tenant})
            if listed["data"]["total_count"] == 1:
                return {r["rule_id"] for r in listed["data"]["rules"]}
            await asyncio.sleep(0.1)
        raise AssertionError("no default rule")

    first = await default_rule_ids(1)
    deleted = subjects.event(MODE, tenant, "tenant", "deleted")
    await publish(service, deleted, {"tenant_id": tenant, "revision": 2}, uuid4().hex)
    for _ in range(50):
        listed = await rpc(service, "rules", {"op": "list", "tenant_id": tenant})
        if listed["data"]["total_count"] == 0:
            break
        await asyncio.sleep(0.1)
    assert listed["data"]["total_count"] == 0
    again = await default_rule_ids(3)
    assert again and not again & first


async def test_new_thresholds_move_default_rules_a_user_has_not_changed(service) -> None:
    tenant = f"t-{uuid4().hex[:8]}"
    sized = subjects.event(MODE, tenant, "tenant", "sized")

    async def size(revision: int, cpu: float, memory: float) -> None:
        thresholds = {"cpu_percent": cpu, "memory_percent": memory}
        body = {"tenant_id": tenant, "revision": revision,
                "sizing": {"alert_thresholds": thresholds}}  # fmt: skip
        await publish(service, sized, body, uuid4().hex)

    async def rules_once(check) -> dict:
        for _ in range(50):
            listed = await rpc(service, "rules", {"op": "list", "tenant_id": tenant})
            rules = {r["alert_name"]: r for r in listed["data"]["rules"]}
            if check(rules):
                return rules
            await asyncio.sleep(0.1)
        raise AssertionError(listed)

    cpu, memory = "default_high_cpu_usage", "default_high_memory_usage"
    await size(1, 75.0, 80.0)
    first = await rules_once(lambda rules: len(rules) == 2)
    changed = await rpc(service, "rules", {"op": "patch", "tenant_id": tenant, "key": memory,
                                          "body": {"condition": "memory_usage > 95"}})  # fmt: skip
    assert changed["ok"], changed

    await size(2, 60.0, 70.0)
    moved = await rules_once(lambda rules: rules[cpu]["condition"] == "cpu_usage > 60")
    assert moved[cpu]["rule_id"] == first[cpu]["rule_id"] and moved[cpu]["default"]
    assert moved[memory]["condition"] == "memory_usage > 95" and not moved[memory]["default"]


async def test_metric_batch_above_threshold_fires_event_and_webhook(service) -> None:
    tenant = f"t-{uuid4().hex[:8]}"
    receiver = await WebhookReceiver().start()
    events = await service.subscribe(subjects.event(MODE, tenant, "alert", "*"))
    try:
        created = await rpc(
            service,
            "rules",
            {
                "op": "create",
                "tenant_id": tenant,
                "body": {
                    "alert_name": "high_cpu_usage",
                    "condition": "cpu_usage > 80",
                    "duration": "0s",
                    "actions": [{"type": "webhook", "url": receiver.url, "method": "POST"}],
                },
            },
        )
        assert created["status"] == 201
        batch = {
            "tenant_id": tenant,
            "batch_id": uuid4().hex,
            "samples": [
                {"name": "cpu_usage", "value": 95.0, "timestamp": datetime.now(UTC).isoformat()}
            ],
        }
        await publish(service, subjects.metrics(MODE, tenant), batch, batch["batch_id"])
        event = await events.next_msg(timeout=10)
        assert event.subject.endswith(".alert.firing")
        assert json.loads(event.data)["alert_name"] == "high_cpu_usage"
        delivered = await receiver.wait_for(1)
        assert json.loads(delivered[0].body)["status"] == "firing"
    finally:
        await events.unsubscribe()
        await receiver.stop()


async def test_deleting_a_tenant_resolves_its_firing_alert(service) -> None:
    tenant = f"t-{uuid4().hex[:8]}"
    receiver = await WebhookReceiver().start()
    events = await service.subscribe(subjects.event(MODE, tenant, "alert", "*"))
    try:
        action = {"type": "webhook", "url": receiver.url}
        body = {"alert_name": "cpu", "condition": "cpu_usage > 80", "actions": [action]}
        await rpc(service, "rules", {"op": "create", "tenant_id": tenant, "body": body})
        batch = {
            "tenant_id": tenant,
            "batch_id": uuid4().hex,
            "samples": [
                {"name": "cpu_usage", "value": 95.0, "timestamp": datetime.now(UTC).isoformat()}
            ],
        }
        await publish(service, subjects.metrics(MODE, tenant), batch, batch["batch_id"])
        await receiver.wait_for(1)
        deleted = subjects.event(MODE, tenant, "tenant", "deleted")
        await publish(service, deleted, {"tenant_id": tenant}, uuid4().hex)
        delivered = await receiver.wait_for(2)
        assert [json.loads(r.body)["status"] for r in delivered] == ["firing", "resolved"]
        subjects_seen = [(await events.next_msg(timeout=10)).subject for _ in range(2)]
        assert [s.rsplit(".", 1)[-1] for s in subjects_seen] == ["firing", "resolved"]
        listed = await rpc(service, "rules", {"op": "list", "tenant_id": tenant})
        assert listed["data"]["total_count"] == 0
    finally:
        await events.unsubscribe()
        await receiver.stop()


async def test_only_the_tenant_events_it_acts_on_are_delivered(service) -> None:
    """A tenant's `accepted` (and any other tenant event) never reaches the alerts service."""
    tenant = f"t-{uuid4().hex[:8]}"
    js = service.jetstream()
    stream, durable = subjects.stream_name(MODE, "evt"), f"alerts-{MODE}-tenant-events"
    before = (await js.consumer_info(stream, durable)).delivered.consumer_seq
    accepted = {"tenant_id": tenant, "revision": 1, "spec": {"tenant_id": tenant}}
    await publish(
        service, subjects.event(MODE, tenant, "tenant", "accepted"), accepted, uuid4().hex
    )
    sized = {
        "tenant_id": tenant,
        "revision": 1,
        "sizing": {"alert_thresholds": {"cpu_percent": 75.0}},
    }
    await publish(service, subjects.event(MODE, tenant, "tenant", "sized"), sized, uuid4().hex)
    for _ in range(50):
        listed = await rpc(service, "rules", {"op": "list", "tenant_id": tenant})
        if listed["data"]["total_count"]:
            break
        await asyncio.sleep(0.1)
    assert listed["data"]["total_count"]  # the sizing was handled
    info = await js.consumer_info(stream, durable)
    assert info.delivered.consumer_seq - before == 1
    assert info.num_pending == 0
