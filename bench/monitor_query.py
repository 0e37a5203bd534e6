"""A 24-hour bucketed query (avg, min, max, p95 per 5 minutes) with 10 million samples stored,
through HTTP and through the rpc, beside the same SQL sent straight with asyncpg."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg
import nats

from bench._harness import print_table, running_system, summary_ms

TENANTS = 1_000
METRICS = ("cpu_usage", "memory_usage", "gpu_usage", "request_count", "response_time")
POINTS = 2_000  # per tenant and metric over 24 hours: one every 43.2 s
RUNS = 60
DEMO = {"X-Demo-Mode": "true"}
BUCKET_SQL = """
SELECT metric_name, date_bin(make_interval(secs => 300), "timestamp",
                             TIMESTAMPTZ '2000-01-01 00:00+00') AS bucket,
       avg(metric_value), min(metric_value), max(metric_value),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY metric_value), count(*)
FROM monitor.monitoring_data
WHERE tenant_id = $1 AND "timestamp" >= $2 AND "timestamp" <= $3
GROUP BY 1, 2 ORDER BY 1, 2"""


async def load(pg_url: str, tenants: list[str]) -> float:
    """Ten million rows with generate_series, one INSERT per tenant slice; seconds taken."""
    conn = await asyncpg.connect(pg_url)
    end = datetime.now(UTC)
    started = time.perf_counter()
    step = 86400 / POINTS
    for first in range(0, len(tenants), 100):
        await conn.execute(
            """INSERT INTO monitor.monitoring_data
               (tenant_id, metric_type, metric_name, metric_value, "timestamp", source, batch_id)
               SELECT t, m, m, (i % 97) + random(), $3::timestamptz - make_interval(secs => i * $4::float8), 'push',
                      'bench'
               FROM unnest($1::text[]) t, unnest($2::text[]) m, generate_series(0, $5::int - 1) i""",
            tenants[first : first + 100],
            list(METRICS),
            end,
            step,
            POINTS,
        )
    # What autovacuum does to a day's partition as it fills: the visibility map lets the
    # covering index answer alone.
    await conn.execute("VACUUM ANALYZE monitor.monitoring_data")
    elapsed = time.perf_counter() - started
    await conn.close()
    return elapsed


async def create_tenant(base_url: str, tenant: str) -> None:
    async with aiohttp.ClientSession(base_url) as http:
        body = {"tenant_id": tenant, "name": tenant, "service_requirements": {"chatbot": 5}}
        async with http.post("/api/v1/tenants/", json=body, headers=DEMO) as reply:
            assert reply.status in (201, 202), await reply.text()


async def direct_sql(pg_url: str, tenant: str) -> list[float]:
    conn = await asyncpg.connect(pg_url)
    samples = []
    for _ in range(RUNS):
        now = datetime.now(UTC)
        started = time.perf_counter()
        rows = await conn.fetch(BUCKET_SQL, tenant, now - timedelta(hours=24), now)
        samples.append(time.perf_counter() - started)
    assert len(rows) >= 280 * len(METRICS), len(rows)
    await conn.close()
    return samples


async def through_rpc(nats_url: str, tenant: str) -> list[float]:
    nc = await nats.connect(nats_url)
    body = json.dumps({"tenant_id": tenant, "hours": 24}).encode()
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        reply = json.loads((await nc.request("ecp.demo.rpc.monitor.query", body, timeout=10)).data)
        samples.append(time.perf_counter() - started)
    # The oldest points leave the 24-hour window while the load runs.
    assert reply["ok"] and reply["sample_count"] > 0.99 * POINTS * len(METRICS), reply

    await nc.close()
    return samples


async def through_http(base_url: str, tenant: str, **params: str) -> list[float]:
    samples = []
    async with aiohttp.ClientSession(base_url) as http:
        for _ in range(RUNS):
            started = time.perf_counter()
            async with http.get(
                f"/api/v1/tenants/{tenant}/monitoring",
                params={"hours": "24", **params},
                headers=DEMO,
            ) as reply:
                answer = await reply.json()
            samples.append(time.perf_counter() - started)
    assert answer["bucket_seconds"] == 300, answer
    return samples


def main() -> None:
    tenants = [f"q-{uuid.uuid4().hex[:8]}" for _ in range(TENANTS)]
    with running_system(ECP_DEMO_METRICS_ENABLED="false") as (system, servers, urls):
        asyncio.run(create_tenant(system.base_url, tenants[0]))
        loading = asyncio.run(load(urls["demo"], tenants))
        sql = summary_ms(asyncio.run(direct_sql(urls["demo"], tenants[0])))
        rpc = summary_ms(asyncio.run(through_rpc(servers.nats_url, tenants[0])))
        http = summary_ms(asyncio.run(through_http(system.base_url, tenants[0])))
        cpu = summary_ms(asyncio.run(through_http(system.base_url, tenants[0], metric_type="cpu")))
    stored = TENANTS * len(METRICS) * POINTS
    print(f"loaded {stored:,} samples ({TENANTS} tenants x {len(METRICS)} metrics x {POINTS} "
          f"points in 24 h) in {loading:.1f} s")  # fmt: skip
    rows = []
    for name, figures in (("HTTP, all 5 metrics", http), ("HTTP, metric_type=cpu", cpu),
                          ("rpc monitor.query, all 5", rpc)):  # fmt: skip
        for q in ("p50_ms", "p99_ms"):
            rows.append(
                (f"{name} {q[:3]}", f"{figures[q]:.1f} ms", f"{sql[q]:.1f} ms direct SQL",
                 f"{figures[q] / sql[q]:.1f}x")
            )  # fmt: skip
    print_table(
        f"24-hour query, 5-minute buckets (avg, min, max, p95), {RUNS} runs, {stored:,} stored",
        rows,
    )
    print("target: under 50 ms")


if __name__ == "__main__":
    main()
