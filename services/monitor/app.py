"""Wires the monitor service: sample ingest, queries, partition upkeep, demo generator, puller."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from services.monitor import handlers
from services.monitor.background import (
    MAINTENANCE_INTERVAL_SECONDS,
    Loops,
    generate_demo_metrics,
    maintain_partitions,
    pull_prometheus,
    wait_until,
)
from shared.modes import Mode
from shared.service import ServiceRuntime
from shared.settings import Settings, get_settings


def build(settings: Settings | None = None) -> ServiceRuntime:
    settings = settings or get_settings()
    runtime = ServiceRuntime("monitor", Path(__file__).parent / "migrations", settings)
    samples = handlers.sample_stores(settings)
    handlers.register(runtime, samples)
    loops = Loops()
    client = httpx.AsyncClient(timeout=10.0)

    async def start_loops() -> None:
        for mode in Mode:
            loops.every(
                MAINTENANCE_INTERVAL_SECONDS,
                f"partitions-{mode}",
                lambda mode=mode: maintain_partitions(samples[mode], settings),  # type: ignore[misc]
            )
        if settings.demo_metrics_enabled:
            loops.every(
                settings.demo_metrics_interval_seconds,
                "demo-metrics",
                lambda: generate_demo_metrics(
                    runtime.broker, runtime.db, settings, datetime.now(UTC), wait_until
                ),
            )
        if settings.monitoring_endpoint:
            loops.every(
                settings.monitoring_pull_interval_seconds,
                "prometheus-pull",
                lambda: pull_prometheus(runtime.broker, client, settings, datetime.now(UTC)),
            )

    async def stop_loops() -> None:
        await loops.stop()
        await client.aclose()
        for store in samples.values():
            await store.close()

    runtime.on_start.append(start_loops)
    runtime.on_stop.append(stop_loops)
    return runtime
