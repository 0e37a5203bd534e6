"""Demo tenants from POST to `deployment.succeeded` on `/ws/events`, offered at a fixed rate with
rollout time zero, beside a raw nats-py publish → subscriber round trip from the same run.

Target: p50 < 50 ms and p99 < 200 ms at 50 tenants/s. The run lasts 20 s, so it crosses
slots of the demo metrics the running tenants generate. The virtual cluster is a large one
written here, grown with the number of tenants, so capacity never runs out during the run."""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import websockets
import yaml

from bench._cpu import CpuMeter, cpu_rows
from bench._harness import print_table, running_system, summary_ms
from bench._http_load import LoadError, OpenLoopClient
from bench.tenant_accepted import raw_round_trips

TENANTS = 1000
RATE_PER_S = 50.0
# A pace the system keeps up with on 2 cores, to show a deployment's own latency unqueued.
SUSTAINED_TENANTS, SUSTAINED_RATE_PER_S = 30, 2.0


def large_cluster_file(tenants: int) -> Path:
    # At scale one (60 CPU nodes) some 370 tenants of the size deployed here fit.
    scale = math.ceil(tenants / 300)
    gpu = {"nvidia.com/gpu=present:NoSchedule"}
    pools = [
        {
            "name": "cpu",
            "nodes": 60 * scale,
            "cpu": 96,
            "memory_gib": 384,
            "max_pods": 250,
            "labels": {"ecp.io/node-role": "cpu"},
        },
        {
            "name": "t4",
            "nodes": 100 * scale,
            "cpu": 64,
            "memory_gib": 256,
            "gpu_model": "T4",
            "gpus_per_node": 8,
            "max_pods": 250,
            "labels": {"nvidia.com/gpu.product": "Tesla-T4", "ecp.io/node-role": "gpu"},
            "taints": sorted(gpu),
        },
        {
            "name": "v100",
            "nodes": 10 * scale,
            "cpu": 64,
            "memory_gib": 256,
            "gpu_model": "V100",
            "gpus_per_node": 8,
            "labels": {"nvidia.com/gpu.product": "Tesla-V100-SXM2-32GB"},
            "taints": sorted(gpu),
        },
        {
            "name": "l40s",
            "nodes": 10 * scale,
            "cpu": 64,
            "memory_gib": 256,
            "gpu_model": "L40S",
            "gpus_per_node": 8,
            "labels": {"nvidia.com/gpu.product": "NVIDIA-L40S"},
            "taints": sorted(gpu),
        },
    ]
    path = Path(tempfile.mkdtemp(prefix="ecp-bench-cluster-")) / "cluster.yaml"
    path.write_text(yaml.safe_dump({"name": "bench", "node_pools": pools}))
    return path


async def deployments(
    base_url: str, tenants: int, rate_per_s: float
) -> tuple[list[float], float, int]:
    # Only the outcomes: a client of all events would be sent some twenty per deployment.
    ws_url = (
        base_url.replace("http://", "ws://")
        + "/ws/events?demo=true&events=deployment.succeeded,deployment.failed"
    )
    waiting: dict[str, asyncio.Future[float]] = {}
    failed = 0
    # A lean client: an HTTP library spends a few ms of CPU per request, on the cores the
    # system being measured runs on.
    http = OpenLoopClient(base_url, {"X-Demo-Mode": "true", "Content-Type": "application/json"})
    async with websockets.connect(ws_url, max_queue=None) as ws:

        async def listen() -> None:
            nonlocal failed
            async for raw in ws:
                event = json.loads(raw)
                future = waiting.get(event["tenant_id"])
                if future is None or future.done():
                    continue
                if event["event"] == "deployment.succeeded":
                    future.set_result(time.perf_counter())
                elif event["event"] == "deployment.failed":
                    failed += 1
                    future.set_exception(RuntimeError(event["data"].get("reason")))

        listener = asyncio.create_task(listen())

        async def one(tid: str) -> float:
            waiting[tid] = asyncio.get_running_loop().create_future()
            started = time.perf_counter()
            body = {"tenant_id": tid, "name": tid, "service_requirements": {"chatbot": 20}}
            status, answer = await http.post("/api/v1/tenants/", json.dumps(body).encode())
            if status >= 400:
                raise LoadError(f"{status}: {answer[:300]!r}")
            return await asyncio.wait_for(waiting[tid], 60) - started

        # Open loop: a tenant every 1/RATE s whatever the system's pace, as users would arrive.
        began = time.perf_counter()
        tasks = []
        for index in range(tenants):
            delay = began + index / rate_per_s - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(f"d-{uuid.uuid4().hex[:10]}")))
        results = await asyncio.gather(*tasks, return_exceptions=True)
        elapsed = time.perf_counter() - began
        listener.cancel()
        http.close()
    samples = [r for r in results if isinstance(r, float)]
    return samples, len(samples) / elapsed, failed


def main() -> None:
    cluster = large_cluster_file(TENANTS)
    try:
        measure(cluster)
    finally:
        shutil.rmtree(cluster.parent, ignore_errors=True)


def measure(cluster: Path) -> None:
    with running_system(
        ECP_VIRTUAL_CLUSTER_FILE=str(cluster), ECP_ROLLOUT_SECONDS_PER_REPLICA="0"
    ) as (system, servers, _):
        raw = asyncio.run(raw_round_trips(servers.nats_url, 2000))
        # The sustained pace first, on a quiet system: the overload leaves hundreds of running
        # demo tenants whose generated metrics then load the machine.
        calm, calm_rate, calm_failed = asyncio.run(
            deployments(system.base_url, SUSTAINED_TENANTS, SUSTAINED_RATE_PER_S)
        )
        meter = CpuMeter(system, servers)
        meter.start()
        samples, rate, failed = asyncio.run(deployments(system.base_url, TENANTS, RATE_PER_S))
        spent = meter.stop()
    if not samples:
        print(f"no deployment succeeded ({failed} failed)")
        return
    got, baseline = summary_ms(samples), summary_ms(raw)
    print_table(
        f"{TENANTS} demo tenants offered at {RATE_PER_S:.0f}/s, rollout time 0: "
        f"POST → deployment.succeeded on /ws/events ({len(samples)} ok, {failed} failed, "
        f"{TENANTS - len(samples) - failed} not done within 60 s)",
        [
            (
                "p50 latency (target < 50 ms)",
                f"{got['p50_ms']:.2f} ms",
                f"{baseline['p50_ms']:.3f} ms raw NATS",
                f"{got['p50_ms'] / baseline['p50_ms']:.0f}x",
            ),
            (
                "p99 latency (target < 200 ms)",
                f"{got['p99_ms']:.2f} ms",
                f"{baseline['p99_ms']:.3f} ms raw NATS",
                f"{got['p99_ms'] / baseline['p99_ms']:.0f}x",
            ),
            ("throughput", f"{rate:.1f} tenants/s", f"{RATE_PER_S:.0f}/s offered", "-"),
        ],
    )
    print_table(
        f"CPU the system spent on those {TENANTS} (generated metrics of running tenants included; "
        "the load generator's own is not counted)",
        cpu_rows(spent, len(samples), "tenant", 1e3, "ms"),
    )
    if calm:
        unqueued = summary_ms(calm)
        print_table(
            f"{SUSTAINED_TENANTS} first, at {SUSTAINED_RATE_PER_S:.0f}/s ({len(calm)} ok, "
            f"{calm_failed} failed): one deployment's latency without a queue",
            [
                (
                    "p50 latency",
                    f"{unqueued['p50_ms']:.2f} ms",
                    f"{baseline['p50_ms']:.3f} ms raw NATS",
                    f"{unqueued['p50_ms'] / baseline['p50_ms']:.0f}x",
                ),
                (
                    "p99 latency",
                    f"{unqueued['p99_ms']:.2f} ms",
                    f"{baseline['p99_ms']:.3f} ms raw NATS",
                    f"{unqueued['p99_ms'] / baseline['p99_ms']:.0f}x",
                ),
                (
                    "throughput",
                    f"{calm_rate:.1f} tenants/s",
                    f"{SUSTAINED_RATE_PER_S:.0f}/s offered",
                    "-",
                ),
            ],
        )


if __name__ == "__main__":
    main()
