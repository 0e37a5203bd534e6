"""1,000 WebSocket clients on `/ws/monitoring/{tenant}`: from the seed's POST to every client
holding the sample, beside a bare `websockets` server broadcasting to as many clients in the
same run."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import aiohttp
import websockets

from bench._harness import percentile, print_table, running_system

CLIENTS = 1_000
ROUNDS = 20
DEMO = {"X-Demo-Mode": "true"}


async def listen(ws: websockets.ClientConnection, arrivals: dict[int, list[float]]) -> None:
    async for raw in ws:
        data = json.loads(raw)
        arrivals.setdefault(int(data["cpu"]), []).append(time.perf_counter())


async def connect_all(url: str) -> list[websockets.ClientConnection]:
    clients: list[websockets.ClientConnection] = []
    for first in range(0, CLIENTS, 100):
        clients += await asyncio.gather(
            *(websockets.connect(url, max_queue=None, open_timeout=30)
              for _ in range(min(100, CLIENTS - first)))
        )  # fmt: skip
    return clients


async def measure(url: str, send: object) -> tuple[list[float], int]:
    """Latencies from each send to each client's receipt; the number of missing receipts."""
    clients = await connect_all(url)
    arrivals: dict[int, list[float]] = {}
    readers = [asyncio.create_task(listen(ws, arrivals)) for ws in clients]
    await asyncio.sleep(0.5)
    sent: dict[int, float] = {}
    for n in range(1, ROUNDS + 1):
        sent[n] = time.perf_counter()
        await send(n)  # type: ignore[operator]
        await asyncio.sleep(0.3)
    await asyncio.sleep(1.0)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
    latencies = [t - sent[n] for n, times in arrivals.items() if n in sent for t in times]
    return latencies, ROUNDS * CLIENTS - len(latencies)


async def baseline() -> tuple[list[float], int]:
    connected: set[websockets.ServerConnection] = set()

    async def handler(ws: websockets.ServerConnection) -> None:
        connected.add(ws)
        await ws.wait_closed()
        connected.discard(ws)

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]

        async def send(n: int) -> None:
            websockets.broadcast(connected, json.dumps({"cpu": n, "tenant_id": "x"}))

        return await measure(f"ws://127.0.0.1:{port}/", send)


async def system_run(base_url: str) -> tuple[list[float], int]:
    tenant = f"ws-{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession(base_url) as http:
        body = {"tenant_id": tenant, "name": tenant, "service_requirements": {"chatbot": 5}}
        async with http.post("/api/v1/tenants/", json=body, headers=DEMO) as reply:
            assert reply.status in (201, 202), await reply.text()

        async def send(n: int) -> None:
            metrics = {"cpu_usage": float(n), "memory_usage": 50.0, "gpu_usage": 60.0}
            async with http.post(
                f"/api/v1/tenants/{tenant}/monitoring", json={"metrics": metrics}, headers=DEMO
            ) as reply:
                assert reply.status == 202

        url = base_url.replace("http://", "ws://") + f"/ws/monitoring/{tenant}?demo=true"
        return await measure(url, send)


def main() -> None:
    raw, raw_missing = asyncio.run(baseline())
    with running_system(ECP_DEMO_METRICS_ENABLED="false") as (system, _, _):
        ours, missing = asyncio.run(system_run(system.base_url))
    rows = [
        (f"{q}", f"{percentile(ours, p) * 1e3:.1f} ms", f"{percentile(raw, p) * 1e3:.1f} ms bare broadcast",
         f"{percentile(ours, p) / percentile(raw, p):.1f}x")
        for q, p in (("p50 POST -> client", 50), ("p99 POST -> client", 99))
    ]  # fmt: skip
    rows.append(("receipts missing", str(missing), str(raw_missing), "-"))
    print_table(f"{CLIENTS} WebSocket clients, {ROUNDS} samples", rows)
    print("target: p99 under 100 ms")


if __name__ == "__main__":
    main()
