"""Samples in (batched COPY), queries answered, demo tenants followed from their events."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pydantic_core
from faststream.nats import NatsMessage
from nats.aio.msg import Msg
from prometheus_client import Counter
from pydantic import ValidationError

from services.monitor import store
from services.monitor.buckets import resolution_for
from services.monitor.partitions import partition_of, retention_cutoff
from services.monitor.store import SampleStore, Window
from shared import subjects
from shared.bus import retry_delay
from shared.consumers import ReceivedMessage, batch_consumer, durable_subscriber
from shared.contracts.metrics import CheckedBatch, stored_metric_batch
from shared.contracts.monitoring import MonitoringQuery, metric_names_for
from shared.db import Databases
from shared.dead_letters import dead_letter
from shared.modes import Mode
from shared.service import ServiceRuntime
from shared.settings import Settings

log = logging.getLogger(__name__)

SAMPLES_STORED = Counter(
    "ecp_monitor_samples_stored_total", "Samples written to the database", ["mode", "source"]
)
BATCHES_DUPLICATE = Counter(
    "ecp_monitor_batches_duplicate_total", "Redelivered batches skipped (already stored)", ["mode"]
)
BATCHES_INVALID = Counter(
    "ecp_monitor_batches_invalid_total", "Metric messages that are not a MetricBatch", ["mode"]
)
CONNECTION_ERRORS = (OSError, ConnectionError, asyncpg.PostgresConnectionError, TimeoutError)


def sample_stores(settings: Settings) -> dict[Mode, SampleStore]:
    urls = {Mode.prod: settings.database_url, Mode.demo: settings.demo_database_url}
    # Beyond the batches stored at once: a connection for queries and one for partitions, so
    # a dashboard is never queued behind a backlog of samples.
    connections = settings.metrics_ingest_concurrency + 2
    return {mode: SampleStore(url, connections) for mode, url in urls.items()}


class MetricsIngest:
    """One mode's metric messages, many at a time, stored with one COPY, acked after commit."""

    def __init__(self, runtime: ServiceRuntime, samples: SampleStore, mode: Mode) -> None:
        self.runtime, self.samples, self.mode = runtime, samples, mode
        self.settings = runtime.settings

    async def handle(self, raw: list[Msg]) -> None:
        read: list[tuple[Msg, store.Batch]] = []
        for one in raw:
            try:
                read.append((one, stored_metric_batch(one.data)))
            except ValidationError as error:
                await self.dead_letter(one, error)
        if not read:
            return
        try:
            stored = await self.store_batches([batch for _, batch in read], raw)
        except asyncpg.DataError:
            if len(read) == 1:
                raise  # retried, then dead-lettered, like any failure
            # A message the contract accepts but the database refuses (a NUL in a label, say)
            # must not take the others of its batch with it: each is stored on its own.
            stored = []
            for one, batch in read:
                try:
                    stored += await self.store_batches([batch], [one])
                except asyncpg.DataError as error:
                    await self.dead_letter(one, error)
        for batch in stored:
            if isinstance(batch, CheckedBatch):
                source, count = batch.source, batch.sample_count
            else:
                source, count = batch.get("source", "push"), len(batch["samples"])
            SAMPLES_STORED.labels(self.mode.value, source).inc(count)

    async def store_batches(self, batches: list[store.Batch], raw: list[Msg]) -> list[store.Batch]:
        """Stores the batches in one transaction, waiting out a database that is away; the
        batches given."""
        now = datetime.now(UTC)
        cutoff = retention_cutoff(now, self.settings.metrics_retention_days)
        horizon = now + timedelta(days=max(1, self.settings.metrics_partitions_ahead_days))
        moments = {t for b in batches for t in moments_of(b)}
        days = {partition_of(t) for t in moments if cutoff <= t < horizon}
        attempt = 0
        while True:
            try:
                await self.samples.ensure_partitions(days)
                result = await self.samples.ingest(batches, cutoff)
                break
            except CONNECTION_ERRORS as error:
                # The database is away: every batch would fail, so wait here (keeping the
                # messages ours) instead of burning their delivery count.
                attempt += 1
                log.warning("database unreachable, retrying", extra={"error": repr(error)})
                await asyncio.gather(*(m.in_progress() for m in raw))
                await asyncio.sleep(retry_delay(min(attempt, 6), self.settings))
        if result.duplicates:
            BATCHES_DUPLICATE.labels(self.mode.value).inc(result.duplicates)
        return batches

    async def dead_letter(self, one: Msg, error: Exception) -> None:
        BATCHES_INVALID.labels(self.mode.value).inc()
        log.error("invalid metric message dead-lettered", extra={"subject": one.subject})
        await dead_letter(self.runtime, [one], error)


def moments_of(batch: store.Batch) -> Iterable[datetime]:
    if isinstance(batch, CheckedBatch):
        return batch.moments
    return (s["timestamp"] for s in batch["samples"])


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 6)


def bucket_series(rows: list[asyncpg.Record]) -> defaultdict[str, list[dict[str, Any]]]:
    """Each metric's buckets as an answer gives them, from `SampleStore.buckets` rows.

    A day's answer has some 1,500 buckets: each bucket's time is formatted once for all the
    metrics, and values are rounded in line (with a call per value and a format per row, this
    loop took half as long as the query itself)."""
    series: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    stamps: dict[datetime, str] = {}
    isfinite = math.isfinite
    for name, bucket, avg, low, high, p95, count in rows:
        stamp = stamps.get(bucket)
        if stamp is None:
            stamp = stamps[bucket] = bucket.isoformat()
        series[name].append(
            {
                "timestamp": stamp,
                "avg": round(avg, 6) if avg is not None and isfinite(avg) else None,
                "min": round(low, 6) if low is not None and isfinite(low) else None,
                "max": round(high, 6) if high is not None and isfinite(high) else None,
                "p95": round(p95, 6) if p95 is not None and isfinite(p95) else None,
                "count": count,
            }
        )
    return series


async def answer_query(
    samples: SampleStore, query: MonitoringQuery, settings: Settings, now: datetime | None = None
) -> dict[str, Any]:
    """Raw points for a window up to an hour, time buckets (avg, min, max, p95) above."""
    until = now or datetime.now(UTC)
    hours = min(query.hours, settings.metrics_retention_days * 24.0)
    since = until - timedelta(hours=hours)
    names = metric_names_for(query.metric_type) if query.metric_type else None
    resolution = resolution_for(hours * 3600)
    window = Window(since, until, names, query.source)
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    truncated = False
    if resolution.bucket_seconds is None:
        rows = await samples.raw_points(query.tenant_id, window, query.max_points)
        truncated = len(rows) >= query.max_points
        for row in rows:
            point: dict[str, Any] = {
                "timestamp": row["timestamp"].isoformat(),
                "value": _number(row["metric_value"]),
                "source": row["source"],
            }
            if row["labels"]:
                point["labels"] = json.loads(row["labels"])
            series[row["metric_name"]].append(point)
        sample_count = len(rows)
    else:
        rows = await samples.buckets(query.tenant_id, window, resolution.bucket_seconds)
        series = bucket_series(rows)
        sample_count = sum(row["count"] for row in rows)
    return {
        "tenant_id": query.tenant_id,
        "metric_type": query.metric_type,
        "source": query.source,
        "metric_names": sorted(series),
        "hours": hours,
        "from": since.isoformat(),
        "to": until.isoformat(),
        "resolution": resolution.name,
        "bucket_seconds": resolution.bucket_seconds,
        "points": sum(len(points) for points in series.values()),
        "sample_count": sample_count,
        "truncated": truncated,
        "metrics": dict(series),
    }


class Queries:
    def __init__(self, samples: SampleStore, settings: Settings) -> None:
        self.samples, self.settings = samples, settings

    async def handle(self, msg: NatsMessage) -> bytes:
        """The answer as compact JSON, `{"ok":true,` first: the gateway passes it on as it is."""
        # Parsed by hand: the gateway's request carries no content type to decode by.
        try:
            query = MonitoringQuery.model_validate_json(msg.body)
        except ValidationError as error:
            failed = {"ok": False, "code": "INVALID_QUERY", "reason": str(error)[:300]}
            return pydantic_core.to_json(failed)
        try:
            answer = await answer_query(self.samples, query, self.settings)
        except Exception as error:
            log.exception("monitoring query failed")
            failed = {"ok": False, "code": "QUERY_FAILED", "reason": type(error).__name__}
            return pydantic_core.to_json(failed)
        return pydantic_core.to_json({"ok": True, **answer})


def _gpu_count(sizing: dict[str, Any]) -> int:
    return sum(int(role.get("gpus", 0)) for role in sizing.get("gpus", []))


# Whether something runs after each deployment outcome.
RUNNING_AFTER = {
    "deployment.succeeded": True,
    "deployment.rolled-back": True,
    "deployment.failed": False,
}
FOLLOWED_EVENTS = ("tenant.sized", "tenant.deleted", *RUNNING_AFTER)


class DemoTenants:
    """Keeps `monitor.demo_tenants` in step with the demo mode's tenant and deployment events."""

    def __init__(self, db: Databases) -> None:
        self.db = db

    async def handle(self, body: dict[str, Any], msg: ReceivedMessage) -> None:
        subject = msg.subject
        name = subjects.event_name_of(subject)
        tenant_id = subjects.tenant_of(subject)
        revision = int(body.get("revision", 0))
        if name not in FOLLOWED_EVENTS:
            return
        # Each event is one statement: no transaction around it.
        async with self.db.connection(Mode.demo) as conn:
            if name == "tenant.deleted":
                await store.forget_demo_tenant(conn, tenant_id)
                return
            now = datetime.now(UTC)
            if name == "tenant.sized":
                sizing = body["sizing"]
                sized = {
                    "preset": sizing.get("preset"),
                    "cpu_millicores": int(sizing["total_requests"]["cpu_millicores"]),
                    "memory_mib": int(sizing["total_requests"]["memory_mib"]),
                    "gpus": _gpu_count(sizing),
                }
                await store.record_sizing(conn, tenant_id, revision, sized, now)
            else:
                await store.record_running(conn, tenant_id, revision, RUNNING_AFTER[name], now)


def register(runtime: ServiceRuntime, samples: dict[Mode, SampleStore]) -> None:
    """Subscribes the sample consumers, the query rpc and the demo tenants' events."""
    broker, settings = runtime.broker, runtime.settings
    for mode in Mode:
        batch_consumer(
            runtime,
            subject=subjects.metrics(mode, subjects.ANY),
            stream=subjects.stream_name(mode, "metrics"),
            durable=f"monitor-{mode}-sample-batches",
            handler=MetricsIngest(runtime, samples[mode], mode).handle,
            max_batch=settings.metrics_batch_size,
            # While Postgres stores some batches, the next are read: a backlog of large
            # messages keeps both cores busy to its last batch (2 at once left one idle).
            concurrency=settings.metrics_ingest_concurrency,
        )
        broker.subscriber(subjects.rpc(mode, "monitor", "query"), queue="monitor")(
            Queries(samples[mode], settings).handle
        )
    durable_subscriber(
        runtime,
        # Only the events it follows: a deployment's progress events are most of the stream.
        subject=[subjects.event(Mode.demo, subjects.ANY, *n.split(".")) for n in FOLLOWED_EVENTS],
        stream=subjects.stream_name(Mode.demo, "evt"),
        durable="monitor-demo-tenant-events",
    )(DemoTenants(runtime.db).handle)
