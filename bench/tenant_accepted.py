"""POST a demo tenant → its `tenant.accepted` on `/ws/events`: latency and tenants/s,
beside a raw nats-py publish → subscriber round trip measured in the same run."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import nats
import websockets

from bench._harness import print_table, running_system, summary_ms

TENANTS = 200
CONCURRENCY = 8


async def raw_round_trips(nats_url: str, count: int) -> list[float]:
    nc = await nats.connect(nats_url)
    sub = await nc.subscribe("bench.raw.>")
    samples = []
    for i in range(count):
        started = time.perf_counter()
        await nc.publish(f"bench.raw.{i}", b'{"tenant_id":"x"}')
        await sub.next_msg(timeout=5)
        samples.append(time.perf_counter() - started)
    await nc.close()
    return samples


async def tenant_round_trips(base_url: str) -> tuple[list[float], float]:
    ws_url = base_url.replace("http://", "ws://") + "/ws/events?demo=true"
    waiting: dict[str, asyncio.Future[float]] = {}
    async with (
        websockets.connect(ws_url, max_queue=None) as ws,
        httpx.AsyncClient(base_url=base_url) as http,
    ):

        async def listen() -> None:
            async for raw in ws:
                event = json.loads(raw)
                future = waiting.get(event["tenant_id"])
                if event["event"] == "tenant.accepted" and future and not future.done():
                    future.set_result(time.perf_counter())

        listener = asyncio.create_task(listen())
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one() -> float:
            tid = f"b-{uuid.uuid4().hex[:10]}"
            async with gate:
                waiting[tid] = asyncio.get_running_loop().create_future()
                started = time.perf_counter()
                reply = await http.post(
                    "/api/v1/tenants/",
                    headers={"X-Demo-Mode": "true"},
                    json={"tenant_id": tid, "name": tid, "service_requirements": {"chatbot": 20}},
                )
                reply.raise_for_status()
                return await asyncio.wait_for(waiting[tid], 30) - started

        began = time.perf_counter()
        samples = await asyncio.gather(*(one() for _ in range(TENANTS)))
        elapsed = time.perf_counter() - began
        listener.cancel()
    return list(samples), TENANTS / elapsed


def main() -> None:
    with running_system() as (system, servers, _):
        raw = asyncio.run(raw_round_trips(servers.nats_url, 2000))
        samples, rate = asyncio.run(tenant_round_trips(system.base_url))
    tenant, baseline = summary_ms(samples), summary_ms(raw)
    print_table(
        f"{TENANTS} demo tenants, {CONCURRENCY} at a time: POST → tenant.accepted on /ws/events",
        [
            (
                "p50 latency",
                f"{tenant['p50_ms']:.2f} ms",
                f"{baseline['p50_ms']:.3f} ms raw NATS",
                f"{tenant['p50_ms'] / baseline['p50_ms']:.0f}x",
            ),
            (
                "p99 latency",
                f"{tenant['p99_ms']:.2f} ms",
                f"{baseline['p99_ms']:.3f} ms raw NATS",
                f"{tenant['p99_ms'] / baseline['p99_ms']:.0f}x",
            ),
            (
                "throughput",
                f"{rate:.1f} tenants/s",
                f"{1 / (baseline['mean_ms'] / 1e3):.0f} msg/s raw serial",
                "-",
            ),
        ],
    )


if __name__ == "__main__":
    main()
