"""The monitor's loops: partition upkeep, the demo generator, the Prometheus puller.

Generated and pulled samples are published on the metrics subject like pushed ones, so the same
pipeline stores them and streams them to WebSocket clients. Their batch ids are made of the
tenant and the time slot: replicas publishing the same slot are deduplicated by the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
from faststream.nats import NatsBroker

from services.monitor import store
from services.monitor.demo_load import DemoTenant, demo_metrics, offset_in_slot, slot_of
from services.monitor.partitions import partitions_expired, partitions_wanted
from services.monitor.prometheus_pull import (
    PULL_QUERIES,
    PrometheusAnswerError,
    PulledValue,
    pulled_values,
)
from services.monitor.store import SampleStore
from shared import subjects
from shared.bus import publish
from shared.contracts.metrics import MetricBatch, Sample
from shared.contracts.tenants import TENANT_ID_PATTERN
from shared.db import Databases
from shared.modes import Mode
from shared.settings import Settings

log = logging.getLogger(__name__)
MAINTENANCE_INTERVAL_SECONDS = 3600.0


async def maintain_partitions(samples: SampleStore, settings: Settings) -> None:
    now = datetime.now(UTC)
    existing = await samples.existing_partitions()
    wanted = partitions_wanted(
        now, settings.metrics_retention_days, settings.metrics_partitions_ahead_days
    )
    created = await samples.ensure_partitions(wanted)
    expired = partitions_expired(existing, now, settings.metrics_retention_days)
    if expired:
        await samples.drop_partitions(expired)
    # A batch can be redelivered only while the stream still holds it.
    keep = max(settings.metrics_stream_max_age_seconds * 2, 86400.0)
    forgotten = await samples.forget_batches(now - timedelta(seconds=keep))
    log.info(
        "partitions maintained",
        extra={
            "partitions_created": len(created),
            "partitions_dropped": len(expired),
            "batch_ids_forgotten": forgotten,
        },
    )


async def publish_batch(broker: NatsBroker, mode: Mode, batch: MetricBatch) -> None:
    await publish(
        broker,
        subjects.metrics(mode, batch.tenant_id),
        batch,
        msg_id=batch.batch_id,
        stream=subjects.stream_name(mode, "metrics"),
    )


def demo_tenant_of(row: store.DemoTenantRow) -> DemoTenant:
    return DemoTenant(
        tenant_id=row.tenant_id,
        running=row.running,
        preset=row.preset,
        cpu_millicores=row.cpu_millicores,
        memory_mib=row.memory_mib,
        gpus=row.gpus,
    )


WaitUntil = Callable[[float], Awaitable[None]]


async def generate_demo_metrics(
    broker: NatsBroker,
    db: Databases,
    settings: Settings,
    moment: datetime,
    wait_until: WaitUntil | None = None,
) -> int:
    """One slot of demo metrics for every known demo tenant; the number of batches published.

    With `wait_until` (the running service's), each tenant's batch waits for its time in the
    slot (`offset_in_slot`); without it, all go at once."""
    interval = settings.demo_metrics_interval_seconds
    slot = slot_of(moment, interval)
    slot_start = datetime.fromtimestamp(slot * interval, UTC)
    async with db.connection(Mode.demo) as conn:
        tenants = [demo_tenant_of(row) for row in await store.demo_tenants(conn)]
    if wait_until is not None:
        due = {t.tenant_id: offset_in_slot(t.tenant_id, interval) for t in tenants}
        tenants.sort(key=lambda t: due[t.tenant_id])
    for tenant in tenants:
        if wait_until is not None:
            await wait_until(slot_start.timestamp() + due[tenant.tenant_id])
        values = demo_metrics(tenant, slot_start, slot, settings.demo_metrics_seed, interval)
        batch = MetricBatch(
            tenant_id=tenant.tenant_id,
            batch_id=f"demo:{tenant.tenant_id}:{slot}",
            source="demo",
            samples=[
                Sample(name=name, value=value, timestamp=slot_start)
                for name, value in values.items()
            ],
        )
        await publish_batch(broker, Mode.demo, batch)
    return len(tenants)


async def pull_prometheus(
    broker: NatsBroker, client: httpx.AsyncClient, settings: Settings, moment: datetime
) -> int:
    """Ask Prometheus for every query of the set; publish one prod batch per tenant."""
    endpoint = settings.monitoring_endpoint.rstrip("/")
    slot = slot_of(moment, settings.monitoring_pull_interval_seconds)
    by_tenant: dict[str, list[PulledValue]] = defaultdict(list)
    for name, promql in PULL_QUERIES.items():
        try:
            reply = await client.get(
                f"{endpoint}/api/v1/query",
                params={"query": promql, "time": f"{moment.timestamp():.3f}"},
            )
            for value in pulled_values(name, reply.json()):
                by_tenant[value.tenant_id].append(value)
        except (httpx.HTTPError, ValueError, PrometheusAnswerError) as error:
            log.warning("prometheus query failed", extra={"metric": name, "error": repr(error)})
    for tenant_id, values in sorted(by_tenant.items()):
        if not subjects_token_ok(tenant_id):
            continue
        batch = MetricBatch(
            tenant_id=tenant_id,
            batch_id=f"pull:{tenant_id}:{slot}",
            source="pull",
            samples=[Sample(name=v.name, value=v.value, timestamp=v.timestamp) for v in values],
        )
        await publish_batch(broker, Mode.prod, batch)
    return len(by_tenant)


def subjects_token_ok(tenant_id: str) -> bool:
    """A label value from Prometheus becomes a subject token: refuse what cannot be one."""
    return bool(TENANT_ID_PATTERN.match(tenant_id)) and len(tenant_id) <= 63


def next_slot_start(due: float, now: float, seconds: float) -> float:
    """When to run again after a run due at `due` (epoch seconds): the start of the next slot,
    or, when the run overran that too, the start of the current one (at once, and no backlog)."""
    return max((due // seconds + 1) * seconds, now // seconds * seconds)


async def wait_until(moment: float) -> None:
    """Sleep until `moment` (epoch seconds) has passed by the wall clock."""
    # The event loop's clock is not the wall clock: a timer may end a little early, which
    # would still be in the previous slot.
    while (delay := moment - time.time()) > 0:  # noqa: ASYNC110 - a time, not an event
        await asyncio.sleep(delay)


class Loops:
    """Background tasks started after the runtime, cancelled before it stops."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[None]] = []

    def every(self, seconds: float, what: str, step: Callable[[], Awaitable[object]]) -> None:
        """Run `step` now, then at the start of each wall-clock slot of `seconds`; a step that
        overruns its slot is followed at once by the current slot's, not a slot later."""

        async def loop() -> None:
            due = time.time()
            while True:
                try:
                    await step()
                except Exception:
                    log.exception("%s failed", what)
                due = next_slot_start(due, time.time(), seconds)
                await wait_until(due)

        self.tasks.append(asyncio.create_task(loop(), name=what))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()
