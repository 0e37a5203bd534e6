"""Samples from the metrics stream to the database and back through `monitor.query`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest

from services.monitor.handlers import MetricsIngest
from services.monitor.partitions import partition_of, retention_cutoff
from services.monitor.store import SampleStore
from shared.contracts.metrics import (
    CheckedBatch,
    MetricBatch,
    Sample,
    checked_metric_batch,
    read_metric_batch,
)
from shared.modes import Mode
from tests.integration.monitor.conftest import eventually, sample_consumer_drained

pytestmark = pytest.mark.integration


def tenant() -> str:
    return f"t-{uuid4().hex[:8]}"


def batch_of(tenant_id: str, values: dict[str, float], at: datetime | None = None) -> MetricBatch:
    moment = at or datetime.now(UTC)
    return MetricBatch(
        tenant_id=tenant_id,
        batch_id=f"test:{uuid4().hex}",
        samples=[Sample(name=n, value=v, timestamp=moment) for n, v in values.items()],
    )


async def test_a_redelivered_batch_is_stored_once(publish_batch, ask, nc):
    tenant_id = tenant()
    batch = batch_of(tenant_id, {"cpu_usage": 10.0, "memory_usage": 20.0})
    # Different message ids get past the server's dedupe, as a replay would.
    for attempt in range(3):
        await publish_batch(Mode.demo, batch, msg_id=f"{batch.batch_id}:{attempt}")

    # Rounds of messages are stored concurrently, so nothing published later tells that these
    # were handled: the consumer acking every message does (acks follow the commit).
    assert await eventually(lambda: sample_consumer_drained(nc, Mode.demo))
    answer = await ask(Mode.demo, tenant_id=tenant_id)
    assert answer["points"] == 2  # the batch's two samples, once


async def test_demo_samples_never_reach_the_prod_database(publish_batch, ask, settings):
    tenant_id = tenant()
    await publish_batch(Mode.demo, batch_of(tenant_id, {"gpu_usage": 50.0}))

    async def in_demo() -> int:
        return int((await ask(Mode.demo, tenant_id=tenant_id))["points"])

    assert await eventually(in_demo) == 1
    assert (await ask(Mode.prod, tenant_id=tenant_id))["points"] == 0
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetchval(
            "SELECT count(*) FROM monitor.monitoring_data WHERE tenant_id = $1", tenant_id
        )
    finally:
        await conn.close()
    assert rows == 0


async def test_metric_type_matches_short_and_seed_names(publish_batch, ask):
    tenant_id = tenant()
    await publish_batch(Mode.demo, batch_of(tenant_id, {"cpu": 1.0, "cpu_usage": 2.0, "x": 3.0}))

    async def cpu_points() -> int:
        return int((await ask(Mode.demo, tenant_id=tenant_id, metric_type="cpu"))["points"])

    assert await eventually(lambda: _equals(cpu_points, 2))
    by_seed_name = await ask(Mode.demo, tenant_id=tenant_id, metric_type="cpu_usage")
    assert sorted(by_seed_name["metric_names"]) == ["cpu", "cpu_usage"]


async def _equals(check, expected) -> bool:
    return await check() == expected


async def test_long_windows_answer_buckets_with_avg_max_p95(publish_batch, ask):
    tenant_id = tenant()
    # Ten samples inside one 5-minute bucket, two hours ago.
    start = datetime.now(UTC) - timedelta(hours=2)
    start = start.replace(minute=start.minute - start.minute % 5, second=0, microsecond=0)
    batch = MetricBatch(
        tenant_id=tenant_id,
        batch_id=f"test:{uuid4().hex}",
        samples=[
            Sample(name="response_time", value=float(v), timestamp=start + timedelta(seconds=v))
            for v in range(1, 11)
        ],
    )
    await publish_batch(Mode.demo, batch)

    async def bucketed() -> dict:
        return await ask(Mode.demo, tenant_id=tenant_id, metric_type="response_time", hours=24)

    assert await eventually(lambda: _has_points(bucketed))
    answer = await bucketed()
    assert (answer["resolution"], answer["bucket_seconds"]) == ("bucket", 300)
    [bucket] = answer["metrics"]["response_time"]
    assert bucket["timestamp"] == start.isoformat()
    assert (bucket["avg"], bucket["min"], bucket["max"], bucket["count"]) == (5.5, 1, 10, 10)
    assert bucket["p95"] == pytest.approx(9.55)
    assert answer["sample_count"] == 10


async def _has_points(check) -> bool:
    return bool((await check())["points"])


async def test_samples_older_than_retention_are_not_stored(publish_batch, ask, settings):
    tenant_id = tenant()
    old = datetime.now(UTC) - timedelta(days=settings.metrics_retention_days + 2)
    await publish_batch(Mode.demo, batch_of(tenant_id, {"cpu_usage": 5.0}, at=old))
    await publish_batch(Mode.demo, batch_of(tenant_id, {"cpu_usage": 6.0}))

    async def answered() -> dict:
        return await ask(Mode.demo, tenant_id=tenant_id, hours=24 * 60)

    assert await eventually(lambda: _has_points(answered))
    assert (await answered())["sample_count"] == 1


async def test_a_batch_stored_from_its_json_gives_the_rows_python_would(monitor, settings):
    """The two ways in (Postgres reading the JSON, Python reading it for COPY) store alike."""
    now = datetime.now(UTC).replace(microsecond=123456)
    old = now - timedelta(days=settings.metrics_retention_days + 2)
    samples = [
        Sample(name="cpu_usage", value=1.5, timestamp=now, labels={"pod": "p-1", "svc": "x"}),
        Sample(name="queue_depth", value=3, timestamp=now + timedelta(hours=9)),
        Sample(name="memory", value=-0.0, timestamp=now - timedelta(seconds=1)),
        Sample(name="gpu_usage", value=9.0, timestamp=old),  # past retention: not stored
    ]
    by_json, by_python = tenant(), tenant()
    store = SampleStore(settings.demo_database_url)
    try:
        for tenant_id, read in ((by_json, checked_metric_batch), (by_python, read_metric_batch)):
            batch = MetricBatch(tenant_id=tenant_id, batch_id=uuid4().hex, source="pull",
                                samples=samples)  # fmt: skip
            message = read(batch.model_dump_json().encode())
            assert message is not None
            assert isinstance(message, CheckedBatch) == (tenant_id == by_json)
            await store.ensure_partitions({partition_of(s.timestamp) for s in samples[:3]})
            result = await store.ingest(
                [message], retention_cutoff(now, settings.metrics_retention_days)
            )
            assert (result.batches, result.rows) == (1, 3)
        pool = await store.pool()
        rows = [
            [tuple(r) for r in await pool.fetch(
                'SELECT metric_type, metric_name, metric_value, "timestamp", labels, source'
                ' FROM monitor.monitoring_data WHERE tenant_id = $1 ORDER BY metric_name',
                tenant_id,
            )]
            for tenant_id in (by_json, by_python)
        ]  # fmt: skip
    finally:
        await store.close()
    assert rows[0] == rows[1]
    assert [r[:2] for r in rows[0]] == [("cpu", "cpu_usage"), ("memory", "memory"),
                                        ("queue_depth", "queue_depth")]  # fmt: skip


@pytest.mark.parametrize("read", [checked_metric_batch, read_metric_batch])
async def test_a_batch_seen_twice_in_a_round_or_again_later_is_stored_once(read, monitor, settings):
    """Both ways in (one statement for messages stored from their JSON, a transaction with COPY
    for the others) count and store a batch id once."""
    tenant_id, now = tenant(), datetime.now(UTC)
    first, second = (
        batch_of(tenant_id, {"cpu_usage": 1.0, "gpu_usage": 2.0}),
        batch_of(tenant_id, {"cpu_usage": 3.0}),
    )
    one, two = (read(b.model_dump_json().encode()) for b in (first, second))
    assert one is not None and two is not None
    store = SampleStore(settings.demo_database_url)
    try:
        await store.ensure_partitions({partition_of(now)})
        cutoff = retention_cutoff(now, settings.metrics_retention_days)
        result = await store.ingest([one, one, two], cutoff)
        assert (result.batches, result.duplicates, result.rows) == (2, 1, 3)
        again = await store.ingest([two], cutoff)
        assert (again.batches, again.duplicates, again.rows) == (0, 1, 0)
        stored = await (await store.pool()).fetchval(
            "SELECT count(*) FROM monitor.monitoring_data WHERE tenant_id = $1", tenant_id
        )
    finally:
        await store.close()
    assert stored == 3


async def test_a_message_the_database_refuses_does_not_take_its_batch_with_it(
    monitor, nc, ask, settings
):
    """A NUL in a label passes the contract but not Postgres's jsonb: that message alone is
    dead-lettered, the others of its batch are stored."""
    tenant_id = tenant()
    at = datetime.now(UTC)
    poison = MetricBatch(tenant_id=tenant_id, batch_id=f"test:{uuid4().hex}", samples=[
        Sample(name="cpu_usage", value=1.0, timestamp=at, labels={"pod": "p\u0000"})
    ])  # fmt: skip
    good = [batch_of(tenant_id, {"cpu_usage": v}) for v in (2.0, 3.0)]
    stream = f"POISON_{uuid4().hex[:8].upper()}"
    js = nc.jetstream()
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])
    try:
        for batch in (good[0], poison, good[1]):
            await js.publish(f"{stream}.x", batch.model_dump_json().encode())
        pulled = await js.pull_subscribe(f"{stream}.>", durable="test")
        messages = await pulled.fetch(3, timeout=5)
        ingest = MetricsIngest(monitor, SampleStore(settings.demo_database_url), Mode.demo)
        try:
            await ingest.handle(messages)
        finally:
            await ingest.samples.close()
    finally:
        await js.delete_stream(stream)
    answer = await ask(Mode.demo, tenant_id=tenant_id, metric_type="cpu")
    assert sorted(p["value"] for p in answer["metrics"]["cpu_usage"]) == [2.0, 3.0]
