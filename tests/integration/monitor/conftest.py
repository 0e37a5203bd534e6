"""The monitor running in-process against the session's NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import nats
import pytest
from nats.aio.client import Client

from services.monitor.app import build
from shared import subjects
from shared.contracts.metrics import MetricBatch
from shared.modes import Mode
from shared.service import ServiceRuntime
from shared.settings import Settings


@pytest.fixture(scope="module")
def monitor_settings(settings: Settings) -> Settings:
    # The generator is driven by the tests, one slot at a time.
    return settings.model_copy(update={"demo_metrics_enabled": False})


@pytest.fixture(scope="module")
async def monitor(monitor_settings: Settings) -> AsyncIterator[ServiceRuntime]:
    runtime = build(monitor_settings)
    await runtime.start()
    yield runtime
    await runtime.stop()


@pytest.fixture(scope="module")
async def nc(monitor: ServiceRuntime, monitor_settings: Settings) -> AsyncIterator[Client]:
    client = await nats.connect(monitor_settings.nats_url)
    yield client
    await client.close()


Publisher = Callable[..., Awaitable[None]]


@pytest.fixture
def publish_batch(nc: Client) -> Publisher:
    async def publish(mode: Mode, batch: MetricBatch, msg_id: str | None = None) -> None:
        await nc.jetstream().publish(
            subjects.metrics(mode, batch.tenant_id),
            batch.model_dump_json().encode(),
            headers={"Nats-Msg-Id": msg_id or batch.batch_id},
        )

    return publish


@pytest.fixture
def ask(nc: Client) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def query(mode: Mode, **body: Any) -> dict[str, Any]:
        reply = await nc.request(
            subjects.rpc(mode, "monitor", "query"), json.dumps(body).encode(), timeout=5
        )
        answer: dict[str, Any] = json.loads(reply.data)
        assert answer.pop("ok"), answer
        return answer

    return query


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


async def sample_consumer_drained(nc: Client, mode: Mode) -> bool:
    """Every metric message published so far is stored and acked."""
    info = await nc.jetstream().consumer_info(
        subjects.stream_name(mode, "metrics"), f"monitor-{mode}-sample-batches"
    )
    return info.num_pending == 0 and info.num_ack_pending == 0
