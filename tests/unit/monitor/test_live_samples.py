"""The gateway's side of monitoring: what a sample may be, and fanning samples out to clients."""

import asyncio
import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from services.gateway.live_metrics import SUBSCRIBER_QUEUE, MonitoringHub, wanted_names
from services.gateway.samples import as_utc, time_problem, value_problem
from shared.modes import Mode
from shared.settings import Settings

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("cpu_usage", -0.1),
        ("cpu_usage", 100.5),
        ("gpu", 101),
        ("request_count", -1),
        ("response_time", -3),
        ("anything", math.nan),
        ("anything", math.inf),
        ("anything", -2e12),
    ],
)
def test_impossible_values_are_refused(name, value):
    assert value_problem(name, value) is not None


@pytest.mark.parametrize(
    ("name", "value"),
    [("cpu_usage", 0), ("memory_usage", 100), ("request_count", 1250), ("temperature", -20.5)],
)
def test_plausible_values_pass(name, value):
    assert value_problem(name, value) is None


def test_naive_timestamps_are_utc():
    assert as_utc(datetime(2026, 11, 26, 12), NOW) == NOW
    assert as_utc(None, NOW) == NOW


def test_timestamps_too_far_ahead_or_behind_are_refused():
    settings = Settings(metrics_max_future_seconds=300, metrics_retention_days=30)
    assert time_problem(NOW + timedelta(seconds=299), NOW, settings) is None
    assert "future" in (time_problem(NOW + timedelta(seconds=301), NOW, settings) or "")
    assert "retention" in (time_problem(NOW - timedelta(days=31), NOW, settings) or "")


def batch(tenant_id, **values):
    return {
        "tenant_id": tenant_id,
        "batch_id": "b",
        "source": "push",
        "samples": [
            {"name": n, "value": v, "timestamp": NOW.isoformat(), "labels": {}}
            for n, v in values.items()
        ],
    }


async def test_subscribers_get_seed_keys_and_the_latest_of_every_metric():
    hub = MonitoringHub()
    follower = hub.subscribe(Mode.demo, "acme")
    other_mode = hub.subscribe(Mode.prod, "acme")
    hub.on_batch(Mode.demo, batch("acme", cpu_usage=50.0, gpu_usage=10.0))
    hub.on_batch(Mode.demo, batch("acme", memory_usage=70.0))
    first, second = (json.loads(follower.queue.get_nowait()) for _ in range(2))
    assert (first["cpu"], first["gpu"], first["memory"]) == (50.0, 10.0, None)
    assert (second["cpu"], second["memory"], second["memory_usage"]) == (50.0, 70.0, 70.0)
    assert second["metrics"] == {"memory_usage": 70.0}
    assert other_mode.queue.empty()


async def test_the_newest_value_of_a_metric_shows_under_both_its_names():
    """A push's `cpu` after the demo load's `cpu_usage`: both names carry the push's value."""
    hub = MonitoringHub()
    follower = hub.subscribe(Mode.demo, "acme")
    hub.on_batch(Mode.demo, {**batch("acme", cpu_usage=86.34), "source": "demo"})
    hub.on_batch(Mode.demo, batch("acme", cpu=12.0))
    hub.on_batch(Mode.demo, batch("acme", cpu_usage=30.0))
    sent = [json.loads(follower.queue.get_nowait()) for _ in range(3)]
    assert [(s["cpu"], s["cpu_usage"]) for s in sent] == [
        (86.34, 86.34),
        (12.0, 12.0),
        (30.0, 30.0),
    ]


async def test_a_subscription_narrows_the_metrics_sent():
    hub = MonitoringHub()
    follower = hub.subscribe(Mode.demo, "acme")
    follower.names = wanted_names(json.dumps({"action": "subscribe", "metrics": ["cpu"]}))
    hub.on_batch(Mode.demo, batch("acme", cpu_usage=5.0, request_count=3))
    sent = json.loads(follower.queue.get_nowait())
    assert sent["cpu"] == sent["cpu_usage"] == 5.0
    assert "request_count" not in sent and sent["tenant_id"] == "acme"


async def test_a_slow_client_is_dropped_and_the_others_still_get_every_sample():
    hub = MonitoringHub()
    slow, fast = hub.subscribe(Mode.demo, "acme"), hub.subscribe(Mode.demo, "acme")
    for n in range(SUBSCRIBER_QUEUE + 5):
        hub.on_batch(Mode.demo, batch("acme", cpu_usage=float(n % 100)))
        await asyncio.sleep(0)
        while not fast.queue.empty():
            fast.queue.get_nowait()
    assert slow.overflowed and slow not in hub.subscribers[(Mode.demo, "acme")]
    assert not fast.overflowed


def test_prometheus_gauges_carry_tenant_and_mode_and_forget_quiet_tenants():
    hub = MonitoringHub()
    hub.on_batch(Mode.demo, batch("acme", cpu_usage=42.0))
    [family] = list(hub.gauges())
    assert family.name == "ecp_tenant_cpu_usage"
    assert [(s.labels, s.value) for s in family.samples] == [
        ({"tenant_id": "acme", "mode": "demo"}, 42.0)
    ]
    hub.latest[(Mode.demo, "acme")].seen -= 3601
    assert list(hub.gauges()) == []


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[1, 2]",
        '{"action": "unsubscribe", "metrics": ["cpu"]}',
        '{"action": "subscribe"}',
    ],
)
def test_other_client_messages_leave_the_subscription_as_it_is(message):
    assert wanted_names(message) is None


async def test_a_message_of_several_pushes_is_shown_moment_by_moment():
    hub = MonitoringHub()
    follower = hub.subscribe(Mode.demo, "acme")
    later, earlier = batch("acme", cpu_usage=80.0), batch("acme", cpu_usage=20.0, gpu_usage=5.0)
    for sample in earlier["samples"]:
        sample["timestamp"] = (NOW - timedelta(seconds=1)).isoformat()
    hub.on_batch(Mode.demo, {**later, "samples": later["samples"] + earlier["samples"]})
    first, second = (json.loads(follower.queue.get_nowait()) for _ in range(2))
    assert (first["cpu"], first["gpu"], first["timestamp"]) == (
        20.0,
        5.0,
        earlier["samples"][0]["timestamp"],
    )
    assert (second["cpu"], second["metrics"]) == (80.0, {"cpu_usage": 80.0})
    assert follower.queue.empty()
