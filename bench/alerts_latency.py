"""Alert latency: a sample published on the metrics stream → the webhook received, with 1,000
rules active and 10,000 samples/s of other traffic, beside the same probe on an idle service."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from uuid import uuid4

import nats

from bench._harness import _databases, print_table, summary_ms
from services.alerts.app import build
from shared import subjects
from shared.bus import MSG_ID_HEADER
from shared.modes import Mode
from shared.settings import Settings
from tests.integration.alerts.receivers import WebhookReceiver
from tests.support.servers import test_servers

MODE = Mode.demo
TENANTS = 100
RULES_PER_TENANT = 10
SAMPLES_PER_S = 10_000
PROBES = 60


def batch(tenant: str, samples: dict[str, float]) -> bytes:
    now = datetime.now(UTC).isoformat()
    body = {
        "tenant_id": tenant,
        "batch_id": uuid4().hex,
        "samples": [{"name": n, "value": v, "timestamp": now} for n, v in samples.items()],
    }
    return json.dumps(body).encode()


async def send(js, tenant: str, samples: dict[str, float]) -> None:
    await js.publish(
        subjects.metrics(MODE, tenant), batch(tenant, samples), headers={MSG_ID_HEADER: uuid4().hex}
    )


async def background(js, stop: asyncio.Event, sent: list[int]) -> None:
    """10,000 samples/s: every 10 ms one batch of 100 samples, tenants in turn."""
    metrics = {f"m{i}": float(i) for i in range(9)} | {"cpu_usage": 10.0}
    tick = 0
    started = time.perf_counter()
    while not stop.is_set():
        for _ in range(1):
            tenant = f"load-{tick % TENANTS}"
            await send(
                js,
                tenant,
                {
                    **{f"{n}_{j}": v for j in range(10) for n, v in metrics.items()},
                    "cpu_usage": 10.0,
                },
            )
            sent[0] += 100
        tick += 1
        await asyncio.sleep(max(0.0, started + tick * 0.01 - time.perf_counter()))


async def measure(
    settings: Settings, rpc, js, receiver: WebhookReceiver, load: bool
) -> tuple[list[float], float]:
    probe = f"probe-{uuid4().hex[:6]}"
    await rpc(
        "rules",
        {
            "op": "create",
            "tenant_id": probe,
            "body": {
                "alert_name": "probe",
                "condition": "probe > 50",
                "duration": "0s",
                "actions": [{"type": "webhook", "url": receiver.url}],
            },
        },
    )
    stop, sent = asyncio.Event(), [0]
    loader = asyncio.create_task(background(js, stop, sent)) if load else None
    started = time.perf_counter()
    await asyncio.sleep(1.0 if load else 0)
    latencies: list[float] = []
    for _ in range(PROBES):
        count = len(receiver.delivered)
        t0 = time.perf_counter()
        await send(js, probe, {"probe": 100.0})
        arrived = await receiver.wait_for(count + 1, timeout=10)
        if len(arrived) <= count:
            print(f"probe {len(latencies)}: no webhook within 10 s (backlog); stopping this run")
            break
        latencies.append(arrived[count].at - t0)
        await asyncio.sleep(0.05)
        count = len(receiver.delivered)
        await send(js, probe, {"probe": 0.0})  # resolve, so the next probe fires again
        await receiver.wait_for(count + 1, timeout=10)
        await asyncio.sleep(0.05)
    rate = sent[0] / (time.perf_counter() - started)
    if loader:
        stop.set()
        await loader
    return latencies, rate


async def run() -> None:
    with test_servers() as servers:
        urls = await _databases(servers)
        settings = Settings(
            nats_url=servers.nats_url,
            database_url=urls["prod"],
            demo_database_url=urls["demo"],
            webhook_allowed_hosts=["127.0.0.1"],
            log_level="WARNING",
            log_json=True,
        )
        runtime = build(settings)
        await runtime.start()
        client = await nats.connect(settings.nats_url)
        js = client.jetstream()
        receiver = await WebhookReceiver().start()

        async def rpc(query: str, request: dict) -> dict:
            reply = await client.request(
                subjects.rpc(MODE, "alerts", query), json.dumps(request).encode(), timeout=10
            )
            return json.loads(reply.data)

        try:
            idle, _ = await measure(settings, rpc, js, receiver, load=False)
            for t in range(TENANTS):
                for r in range(RULES_PER_TENANT):
                    await rpc(
                        "rules",
                        {
                            "op": "create",
                            "tenant_id": f"load-{t}",
                            "body": {
                                "alert_name": f"r{r}",
                                "condition": f"cpu_usage > {90 + r} or m{r % 9}_0 > 1000",
                                "duration": "1m",
                            },
                        },
                    )
            loaded, rate = await measure(settings, rpc, js, receiver, load=True)
        finally:
            await receiver.stop()
            await client.close()
            await runtime.stop()
    a, b = summary_ms(loaded), summary_ms(idle)
    print_table(
        f"sample published → webhook received ({PROBES} probes; load {rate:,.0f} samples/s offered, "
        f"{TENANTS * RULES_PER_TENANT} rules; baseline: idle service, one rule)",
        [
            (name, f"{a[key]:.1f} ms", f"{b[key]:.1f} ms", f"{a[key] / b[key]:.2f}x")
            for name, key in (("p50", "p50_ms"), ("p99", "p99_ms"), ("mean", "mean_ms"))
        ],
    )
    print(f"target p99 < 100 ms: {'met' if a['p99_ms'] < 100 else 'NOT met'}")


def main() -> None:
    asyncio.run(run())
