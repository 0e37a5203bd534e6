"""The delivery rules on a real JetStream server: retry with back-off, dead letter, dedupe."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from faststream.nats import NatsBroker
from pydantic import BaseModel

from shared import subjects
from shared.batches import batch_consumer
from shared.bus import (
    DEAD_LETTER_SUBJECT_HEADER,
    declare_streams,
    durable_subscriber,
    make_broker,
    publish,
)
from shared.modes import Mode
from shared.service import ServiceRuntime
from shared.settings import Settings


class Probe(BaseModel):
    n: int


@pytest.fixture
async def broker(settings: Settings) -> AsyncIterator[NatsBroker]:
    tuned = settings.model_copy(update={"max_deliver": 3, "retry_base_seconds": 0.2})
    broker = make_broker(tuned, f"probe-{uuid.uuid4().hex[:6]}")
    await broker.connect()
    await declare_streams(broker, tuned)
    yield broker
    await broker.stop()


def probe_subject(tag: str) -> str:
    return subjects.command(Mode.demo, f"probe-{tag}", "probe", "run")


async def test_a_handler_failing_twice_then_succeeding_loses_nothing(
    broker: NatsBroker, settings: Settings
) -> None:
    tag = uuid.uuid4().hex[:8]
    attempts: list[float] = []
    done = asyncio.Event()

    @durable_subscriber(
        broker,
        settings,
        subject=probe_subject(tag),
        stream=subjects.stream_name(Mode.demo, "cmd"),
        durable=f"probe-{tag}",
    )
    async def flaky(body: Probe) -> None:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise RuntimeError("database briefly gone")
        done.set()

    await broker.start()
    await publish(
        broker,
        probe_subject(tag),
        Probe(n=1),
        msg_id=f"probe:{tag}",
        stream=subjects.stream_name(Mode.demo, "cmd"),
    )
    await asyncio.wait_for(done.wait(), 20)
    await asyncio.sleep(1.0)  # a wrongly unacked message would come back within this time
    assert len(attempts) == 3
    # back-off: 0.2 s after the first failure, 0.4 s after the second
    assert attempts[1] - attempts[0] >= 0.18 and attempts[2] - attempts[1] >= 0.38


async def test_a_handler_failing_every_time_lands_in_the_dead_letter_subject(
    broker: NatsBroker, settings: Settings
) -> None:
    tag = uuid.uuid4().hex[:8]
    attempts = 0
    nc = await nats.connect(settings.nats_url)
    dead = await nc.subscribe(subjects.dead_letter(Mode.demo, "*"))

    @durable_subscriber(
        broker,
        settings,
        subject=probe_subject(tag),
        stream=subjects.stream_name(Mode.demo, "cmd"),
        durable=f"probe-{tag}",
    )
    async def broken(body: Probe) -> None:
        nonlocal attempts
        attempts += 1
        raise ValueError("poison")

    await broker.start()
    await publish(
        broker,
        probe_subject(tag),
        Probe(n=7),
        msg_id=f"probe:{tag}",
        stream=subjects.stream_name(Mode.demo, "cmd"),
    )
    letter = await dead.next_msg(timeout=20)
    assert json.loads(letter.data) == {"n": 7}
    assert letter.headers[DEAD_LETTER_SUBJECT_HEADER] == probe_subject(tag)
    await asyncio.sleep(1.5)
    assert attempts == 3  # max_deliver, then no more tries
    await nc.close()


async def test_a_duplicated_publish_is_dropped_by_the_server(
    broker: NatsBroker, settings: Settings
) -> None:
    tag = uuid.uuid4().hex[:8]
    stream = subjects.stream_name(Mode.demo, "cmd")
    first = await publish(
        broker, probe_subject(tag), Probe(n=1), msg_id=f"dup:{tag}", stream=stream
    )
    second = await publish(
        broker, probe_subject(tag), Probe(n=1), msg_id=f"dup:{tag}", stream=stream
    )
    assert not first.duplicate and second.duplicate and first.seq == second.seq


async def test_a_batch_consumer_loses_nothing_and_retries_a_failed_batch_as_one(
    settings: Settings,
) -> None:
    tuned = settings.model_copy(update={"max_deliver": 3, "retry_base_seconds": 0.1})
    runtime = ServiceRuntime(f"batch-{uuid.uuid4().hex[:6]}", None, tuned)
    tag = uuid.uuid4().hex[:8]
    subject = subjects.event(Mode.demo, f"batch-{tag}", "probe", "seen")
    seen: list[int] = []
    failures = 0

    async def handler(batch: list) -> None:
        nonlocal failures
        numbers = [json.loads(m.data)["n"] for m in batch]
        if 5 in numbers and failures < 2:
            failures += 1
            raise RuntimeError("briefly broken")
        seen.extend(numbers)

    batch_consumer(
        runtime,
        subject=subject,
        stream=subjects.stream_name(Mode.demo, "evt"),
        durable=f"batch-{tag}",
        handler=handler,
    )
    await runtime.start()
    try:
        for n in range(20):
            await publish(
                runtime.broker,
                subject,
                Probe(n=n),
                msg_id=f"b:{tag}:{n}",
                stream=subjects.stream_name(Mode.demo, "evt"),
            )
            await asyncio.sleep(0.01)
        for _ in range(200):
            if len(seen) >= 20:
                break
            await asyncio.sleep(0.05)
    finally:
        await runtime.stop()
    assert sorted(seen) == list(range(20)) and len(seen) == 20  # none lost, none twice
    assert failures == 2
