"""Metrics in: the seed's POST (5 metrics a request) and the batch form, accepted and stored end to
end, beside a raw pipeline measured in the same run (nats-py JetStream publish, then a pull
consumer parsing the JSON and writing with asyncpg COPY, in one script)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import aiohttp
import asyncpg
import nats

from bench._cpu import CpuMeter, cpu_rows
from bench._harness import print_table, running_system
from bench._http_load import post_all

SEED_REQUESTS = 12_000
SEED_CONCURRENCY = 64
BATCH_REQUESTS = 60
BATCH_SAMPLES = 5_000  # per request: 20 tenants x 50 pods x 5 metrics
BATCH_CONCURRENCY = 4
TENANTS = 20
DEMO = {"X-Demo-Mode": "true"}
SEED_METRICS = {
    "cpu_usage": 65.5,
    "memory_usage": 78.2,
    "gpu_usage": 85.0,
    "request_count": 1250,
    "response_time": 145.8,
}


def batch_message(tenant: str, samples: int) -> bytes:
    now = datetime.now(UTC).isoformat()
    return json.dumps(
        {
            "tenant_id": tenant,
            "batch_id": uuid.uuid4().hex,
            "source": "push",
            "samples": [
                {
                    "name": "cpu_usage",
                    "value": 1.0 * i,
                    "timestamp": now,
                    "labels": {"pod": f"p-{i % 50}", "service": "callbot"},
                }
                for i in range(samples)
            ],
        }
    ).encode()


async def raw_pipeline(nats_url: str, pg_url: str, messages: int, per_message: int) -> float:
    """Samples/s of publish (acked, 1,000 in flight) + fetch + parse + COPY, one script."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    stream = f"BENCH_{uuid.uuid4().hex[:6].upper()}"
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])
    conn = await asyncpg.connect(pg_url)
    await conn.execute(
        "CREATE TEMP TABLE raw_samples (tenant_id text, metric_name text, metric_value float8,"
        " ts timestamptz, labels jsonb, batch_id text)"
    )
    payload = batch_message("raw", per_message)
    started = time.perf_counter()
    for first in range(0, messages, 1000):
        await asyncio.gather(
            *(js.publish(f"{stream}.raw", payload) for _ in range(min(1000, messages - first)))
        )
    sub = await js.pull_subscribe(f"{stream}.>", durable="raw")
    stored = 0
    while stored < messages:
        fetched = await sub.fetch(500, timeout=5)
        records = []
        for msg in fetched:
            body = json.loads(msg.data)
            for s in body["samples"]:
                records.append(
                    (body["tenant_id"], s["name"], s["value"],
                     datetime.fromisoformat(s["timestamp"]), json.dumps(s["labels"]),
                     body["batch_id"])
                )  # fmt: skip
        await conn.copy_records_to_table("raw_samples", records=records)
        await asyncio.gather(*(m.ack() for m in fetched))
        stored += len(fetched)
    elapsed = time.perf_counter() - started
    await js.delete_stream(stream)
    await conn.close()
    await nc.close()
    return messages * per_message / elapsed


async def create_tenants(base_url: str) -> list[str]:
    tenants = [f"bench-{uuid.uuid4().hex[:6]}" for _ in range(TENANTS)]
    async with aiohttp.ClientSession(base_url) as http:
        for tenant in tenants:
            body = {"tenant_id": tenant, "name": tenant, "service_requirements": {"chatbot": 5}}
            async with http.post("/api/v1/tenants/", json=body, headers=DEMO) as reply:
                assert reply.status in (201, 202), await reply.text()
    return tenants


async def count_samples(conn: asyncpg.Connection, tenants: list[str]) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM monitor.monitoring_data WHERE tenant_id = ANY($1)"
            " AND source = 'push'",
            tenants,
        )
    )


async def count_batches(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM monitor.ingested_batches"))


def published_messages(answers: list[bytes]) -> set[str]:
    """The messages the gateway published for these answers (pushes may share one): a seed
    push's answer names its message, a batch push's one message per tenant."""
    ids: set[str] = set()
    for raw in answers:
        answer = json.loads(raw)
        if "tenants" in answer:
            ids.update(tenant["batch_id"] for tenant in answer["tenants"])
        else:
            ids.add(answer["batch_id"])
    return ids


async def wait_stored(
    conn: asyncpg.Connection,
    tenants: list[str],
    samples: int,
    batches: int,
    timeout: float = 120,
) -> float:
    """The moment the monitor has stored `batches` messages in all. A message's batch id is
    recorded by the statement that stores its samples, so the few batch rows (one per message)
    tell when the samples are in; counting the samples themselves while they are written would
    cost Postgres more than some of the work measured. The samples are counted once, at the
    end: exactly `samples` must be there."""
    deadline = time.perf_counter() + timeout
    while (seen := await count_batches(conn)) < batches:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{seen} messages stored, {batches} expected")
        await asyncio.sleep(0.02)
    done = time.perf_counter()
    stored = await count_samples(conn, tenants)
    if stored != samples:
        raise RuntimeError(f"{stored} samples stored, {samples} expected")
    return done


async def post_and_store(
    base_url: str,
    pg_url: str,
    tenants: list[str],
    bodies: list[tuple[str, bytes]],
    concurrency: int,
    samples: int,
) -> tuple[float, float]:
    """Sends every (path, body) over `concurrency` keep-alive connections, then waits until
    the monitor has stored what they carry (`samples` in all): the seconds the sending took,
    and the seconds until the last message was stored."""
    conn = await asyncpg.connect(pg_url)
    try:
        before, answers = await count_samples(conn, tenants), list[bytes]()
        batches_before = await count_batches(conn)
        started = time.perf_counter()
        sending = await post_all(
            base_url,
            bodies,
            concurrency,
            {**DEMO, "Content-Type": "application/json"},
            answers=answers,
        )
        messages = len(published_messages(answers))
        done = await wait_stored(conn, tenants, before + samples, batches_before + messages)
    finally:
        await conn.close()
    return sending, done - started


async def seed_form(base_url: str, pg_url: str, tenants: list[str]) -> tuple[float, float]:
    bodies = [
        (f"/api/v1/tenants/{tenants[i % len(tenants)]}/monitoring",
         json.dumps({"timestamp": datetime.utcnow().isoformat(), "metrics": SEED_METRICS}).encode())
        for i in range(SEED_REQUESTS)
    ]  # fmt: skip
    total = SEED_REQUESTS * len(SEED_METRICS)
    sending, storing = await post_and_store(
        base_url, pg_url, tenants, bodies, SEED_CONCURRENCY, total
    )
    return SEED_REQUESTS / sending, total / storing


async def batch_form(base_url: str, pg_url: str, tenants: list[str]) -> tuple[float, float]:
    def body() -> bytes:
        now = datetime.now(UTC).isoformat()
        pods = BATCH_SAMPLES // len(tenants) // len(SEED_METRICS)
        return json.dumps(
            {"samples": [
                {"tenant_id": t, "name": n, "value": v, "timestamp": now,
                 "labels": {"pod": f"callbot-{p}", "service": "callbot"}}
                for t in tenants for p in range(pods) for n, v in SEED_METRICS.items()
            ]}
        ).encode()  # fmt: skip

    bodies = [("/api/v1/monitoring/batch", body()) for _ in range(BATCH_REQUESTS)]
    total = BATCH_REQUESTS * BATCH_SAMPLES
    sending, storing = await post_and_store(
        base_url, pg_url, tenants, bodies, BATCH_CONCURRENCY, total
    )
    return total / sending, total / storing


def main() -> None:
    with running_system(ECP_DEMO_METRICS_ENABLED="false") as (system, servers, urls):
        raw_small = asyncio.run(raw_pipeline(servers.nats_url, urls["demo"], 20_000, 5))
        per_tenant = BATCH_SAMPLES // TENANTS  # the gateway publishes one message per tenant
        raw_large = asyncio.run(raw_pipeline(servers.nats_url, urls["demo"], 2_000, per_tenant))
        tenants = asyncio.run(create_tenants(system.base_url))
        meter = CpuMeter(system, servers)
        meter.start()
        posts, seed_e2e = asyncio.run(seed_form(system.base_url, urls["demo"], tenants))
        seed_cpu = meter.stop()
        meter.start()
        batch_accepted, batch_e2e = asyncio.run(batch_form(system.base_url, urls["demo"], tenants))
        batch_cpu = meter.stop()
    print_table(
        f"Metrics in: {SEED_REQUESTS} seed POSTs ({SEED_CONCURRENCY} connections), "
        f"{BATCH_REQUESTS} batch POSTs of {BATCH_SAMPLES} samples ({BATCH_CONCURRENCY} connections)",
        [
            ("seed form: POSTs/s accepted", f"{posts:,.0f}/s", "-", "-"),
            (
                "seed form: samples/s stored end to end",
                f"{seed_e2e:,.0f}/s",
                f"{raw_small:,.0f}/s raw (5-sample msgs)",
                f"{seed_e2e / raw_small:.2f}",
            ),
            ("batch form: samples/s accepted", f"{batch_accepted:,.0f}/s", "-", "-"),
            (
                "batch form: samples/s stored end to end",
                f"{batch_e2e:,.0f}/s",
                f"{raw_large:,.0f}/s raw ({BATCH_SAMPLES // TENANTS}-sample msgs)",
                f"{batch_e2e / raw_large:.2f}",
            ),
        ],
    )
    print("targets: 25,000 samples/s seed form; 100,000 samples/s and >= 0.5 of raw, batch form")
    print_table(
        "CPU the system spent (the load generator's own is not counted; it shares the cores)",
        [
            *cpu_rows(seed_cpu, SEED_REQUESTS, "seed POST", 1e6, "µs"),
            *cpu_rows(batch_cpu, BATCH_REQUESTS * BATCH_SAMPLES, "batch sample", 1e6, "µs"),
        ],
    )


if __name__ == "__main__":
    main()
