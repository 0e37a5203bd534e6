"""Sizing calls per second: in-process, and through request/reply to the calculator service,
beside a raw nats-py request/reply echo measured in the same run."""

from __future__ import annotations

import asyncio
import time

import nats
from nats.aio.msg import Msg

from bench._harness import print_table, running_system
from services.calculator.catalogue import default_catalogue_path, load_catalogue
from services.calculator.sizing import size
from shared import subjects
from shared.contracts.sizing import EstimateRequest, SizingRequest
from shared.contracts.tenants import ServiceRequirements
from shared.modes import Mode

SEED = ServiceRequirements(callbot=100, chatbot=200, advisor=50, stt=100, tts=100)
CALLS = 500
CONCURRENCY = 16


def in_process(seconds: float = 2.0) -> float:
    catalogue = load_catalogue(default_catalogue_path())
    request = SizingRequest(service_requirements=SEED, cloud="aws")
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        size(request, catalogue)
        calls += 1
    return calls / (time.perf_counter() - started)


async def rate_of(nats_url: str, subject: str, body: bytes, answer: bool) -> float:
    nc = await nats.connect(nats_url)
    if answer:

        async def echo(msg: Msg) -> None:
            await msg.respond(msg.data)

        await nc.subscribe(subject, cb=echo)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one() -> None:
        async with gate:
            await nc.request(subject, body, timeout=10)

    await one()  # warm up
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(CALLS)))
    elapsed = time.perf_counter() - started
    await nc.close()
    return CALLS / elapsed


def main() -> None:
    local = in_process()
    body = (
        EstimateRequest(request=SizingRequest(service_requirements=SEED, cloud="aws"))
        .model_dump_json()
        .encode()
    )
    with running_system() as (_, servers, _urls):
        raw = asyncio.run(rate_of(servers.nats_url, "bench.echo", body, answer=True))
        rpc = asyncio.run(
            rate_of(
                servers.nats_url, subjects.rpc(Mode.demo, "calculator", "estimate"), body, False
            )
        )
    print_table(
        "Sizing the seed's scenario 1 with an AWS instance list",
        [
            ("in-process size()", f"{local:,.0f} calls/s", "-", "-"),
            (
                "request/reply calculator.estimate",
                f"{rpc:,.0f} calls/s",
                f"{raw:,.0f} raw echo/s",
                f"{rpc / raw:.2f}x",
            ),
        ],
    )


if __name__ == "__main__":
    main()
