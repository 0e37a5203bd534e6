"""The delivery rules on a real JetStream server: retry with back-off, dead letter, dedupe,
order per tenant and parallel tenants."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from pydantic import BaseModel

from shared import subjects
from shared.bus import DEAD_LETTER_SUBJECT_HEADER, publish
from shared.consumers import ReceivedMessage, batch_consumer, durable_subscriber
from shared.modes import Mode
from shared.service import ServiceRuntime
from shared.settings import Settings

CMD = subjects.stream_name(Mode.demo, "cmd")


class Probe(BaseModel):
    n: int


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[ServiceRuntime]:
    """A bare service runtime; each test registers its consumers, then starts it."""
    tuned = settings.model_copy(update={"max_deliver": 3, "retry_base_seconds": 0.2})
    runtime = ServiceRuntime(f"probe-{uuid.uuid4().hex[:6]}", None, tuned)
    yield runtime
    if runtime.started:
        await runtime.stop()


def probe_subject(tenant: str) -> str:
    return subjects.command(Mode.demo, tenant, "probe", "run")


async def send(runtime: ServiceRuntime, tenant: str, n: int, tag: str) -> None:
    await publish(
        runtime.broker,
        probe_subject(tenant),
        Probe(n=n),
        msg_id=f"p:{tag}:{tenant}:{n}",
        stream=CMD,
    )


async def test_a_handler_failing_twice_then_succeeding_loses_nothing(
    runtime: ServiceRuntime,
) -> None:
    tag = uuid.uuid4().hex[:8]
    attempts: list[float] = []
    done = asyncio.Event()

    @durable_subscriber(
        runtime, subject=probe_subject(f"t-{tag}"), stream=CMD, durable=f"probe-{tag}"
    )
    async def flaky(body: dict, msg: ReceivedMessage) -> None:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise RuntimeError("database briefly gone")
        done.set()

    await runtime.start()
    await send(runtime, f"t-{tag}", 1, tag)
    await asyncio.wait_for(done.wait(), 20)
    await asyncio.sleep(1.0)  # a wrongly unacked message would come back within this time
    assert len(attempts) == 3
    # back-off: 0.2 s after the first failure, 0.4 s after the second
    assert attempts[1] - attempts[0] >= 0.18 and attempts[2] - attempts[1] >= 0.38


async def test_a_handler_failing_every_time_lands_in_the_dead_letter_subject(
    runtime: ServiceRuntime, settings: Settings
) -> None:
    tag = uuid.uuid4().hex[:8]
    attempts = 0
    nc = await nats.connect(settings.nats_url)
    dead = await nc.subscribe(subjects.dead_letter(Mode.demo, runtime.name))

    @durable_subscriber(
        runtime, subject=probe_subject(f"t-{tag}"), stream=CMD, durable=f"probe-{tag}"
    )
    async def broken(body: dict, msg: ReceivedMessage) -> None:
        nonlocal attempts
        attempts += 1
        raise ValueError("poison")

    await runtime.start()
    await send(runtime, f"t-{tag}", 7, tag)
    letter = await dead.next_msg(timeout=20)
    assert json.loads(letter.data) == {"n": 7}
    assert letter.headers[DEAD_LETTER_SUBJECT_HEADER] == probe_subject(f"t-{tag}")
    await asyncio.sleep(1.5)
    assert attempts == 3  # max_deliver, then no more tries
    await nc.close()


async def test_a_message_that_is_not_json_is_dead_lettered_at_once(
    runtime: ServiceRuntime, settings: Settings
) -> None:
    tag = uuid.uuid4().hex[:8]
    calls = 0
    nc = await nats.connect(settings.nats_url)
    dead = await nc.subscribe(subjects.dead_letter(Mode.demo, runtime.name))

    @durable_subscriber(
        runtime, subject=probe_subject(f"t-{tag}"), stream=CMD, durable=f"probe-{tag}"
    )
    async def never(body: dict, msg: ReceivedMessage) -> None:
        nonlocal calls
        calls += 1

    await runtime.start()
    await nc.jetstream().publish(
        probe_subject(f"t-{tag}"), b"{not json", headers={"Nats-Msg-Id": tag}
    )
    letter = await dead.next_msg(timeout=20)
    assert letter.data == b"{not json" and "DecodeError" in letter.headers["Ecp-Error"]
    assert calls == 0
    await nc.close()


async def test_one_tenant_in_order_several_tenants_at_once(
    runtime: ServiceRuntime, settings: Settings
) -> None:
    tag = uuid.uuid4().hex[:8]
    seen: dict[str, list[int]] = {}
    running = 0
    most_at_once = 0

    @durable_subscriber(
        runtime, subject=probe_subject("*"), stream=CMD, durable=f"probe-{tag}", concurrency=4
    )
    async def slow(body: dict, msg: ReceivedMessage) -> None:
        nonlocal running, most_at_once
        running += 1
        most_at_once = max(most_at_once, running)
        await asyncio.sleep(0.05)
        seen.setdefault(subjects.tenant_of(msg.subject), []).append(body["n"])
        running -= 1

    tenants = [f"o-{tag}-{i}" for i in range(4)]
    nc = await nats.connect(settings.nats_url)
    for n in range(5):
        for tenant in tenants:
            body = Probe(n=n).model_dump_json().encode()
            await nc.jetstream().publish(
                probe_subject(tenant), body, headers={"Nats-Msg-Id": f"{tenant}:{n}"}
            )
    await nc.close()
    await runtime.start()
    for _ in range(200):
        if sum(len(v) for k, v in seen.items() if k in tenants) == 20:
            break
        await asyncio.sleep(0.05)
    assert {t: seen.get(t) for t in tenants} == {t: [0, 1, 2, 3, 4] for t in tenants}
    assert most_at_once > 1


async def test_a_batch_consumer_loses_nothing_and_retries_a_failed_batch_as_one(
    runtime: ServiceRuntime,
) -> None:
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
    assert sorted(seen) == list(range(20)) and len(seen) == 20  # none lost, none twice
    assert failures == 2


async def test_a_batch_consumer_with_concurrency_holds_several_batches_and_acks_each(
    runtime: ServiceRuntime,
) -> None:
    tag = uuid.uuid4().hex[:8]
    subject = subjects.event(Mode.demo, f"batch-{tag}", "probe", "seen")
    stream = subjects.stream_name(Mode.demo, "evt")
    release = asyncio.Event()
    in_hand: list[list[int]] = []
    seen: list[int] = []

    async def handler(batch: list) -> None:
        numbers = [json.loads(m.data)["n"] for m in batch]
        in_hand.append(numbers)
        if numbers[0] < 2:
            await release.wait()  # the first two batches wait for each other
        seen.extend(numbers)

    batch_consumer(
        runtime, subject=subject, stream=stream, durable=f"batch-{tag}", handler=handler,
        max_batch=1, concurrency=2,
    )  # fmt: skip
    await runtime.start()
    for n in range(6):
        await publish(runtime.broker, subject, Probe(n=n), msg_id=f"c:{tag}:{n}", stream=stream)
    for _ in range(100):
        if len(in_hand) >= 2:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert in_hand == [[0], [1]]  # two in hand, no third taken while both are
    release.set()
    for _ in range(200):
        if len(seen) >= 6:
            break
        await asyncio.sleep(0.05)
    assert sorted(seen) == list(range(6))
    info = await runtime.broker.connection.jetstream().consumer_info(stream, f"batch-{tag}")
    assert info.num_ack_pending == 0 and info.num_redelivered == 0


async def test_a_duplicated_publish_is_dropped_by_the_server(runtime: ServiceRuntime) -> None:
    await runtime.start()
    tag = uuid.uuid4().hex[:8]
    first = await publish(
        runtime.broker, probe_subject(tag), Probe(n=1), msg_id=f"dup:{tag}", stream=CMD
    )
    second = await publish(
        runtime.broker, probe_subject(tag), Probe(n=1), msg_id=f"dup:{tag}", stream=CMD
    )
    assert not first.duplicate and second.duplicate and first.seq == second.seq
