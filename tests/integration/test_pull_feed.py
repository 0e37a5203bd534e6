"""The continuous pull feed on a real JetStream server: a message is handed over as it arrives,
an expired or ended pull request is replaced, and nothing is handed over twice."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig

from shared import pull
from shared.pull import PullFeed
from shared.settings import Settings


@pytest.fixture
async def connection(settings: Settings) -> AsyncIterator[Client]:
    nc = await nats.connect(settings.nats_url)
    yield nc
    await nc.close()


@pytest.fixture
async def stream(connection: Client) -> AsyncIterator[str]:
    name = f"FEED_{uuid.uuid4().hex[:8].upper()}"
    await connection.jetstream().add_stream(name=name, subjects=[f"{name}.>"])
    yield name
    await connection.jetstream().delete_stream(name)


def config(durable: str, stream: str) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=durable, filter_subject=f"{stream}.>", ack_policy=AckPolicy.EXPLICIT
    )


async def take_until(feed: PullFeed, count: int, seconds: float = 10.0) -> list[bytes]:
    got: list[bytes] = []
    deadline = time.monotonic() + seconds
    while len(got) < count and time.monotonic() < deadline:
        for msg in await feed.take(count - len(got)):
            got.append(msg.data)
            await msg.ack()
    return got


async def test_a_message_is_handed_over_as_it_arrives_not_when_a_batch_fills(
    connection: Client, stream: str
) -> None:
    feed = PullFeed(connection, stream, config("quick", stream), batch=100)
    await feed.open()
    taking = asyncio.create_task(feed.take(100))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await connection.jetstream().publish(f"{stream}.a", b"one")
    taken = await taking
    assert [m.data for m in taken] == [b"one"]
    # A batch of 100 asked for, one there: handed over long before the request's expiry.
    assert time.monotonic() - started < pull.REQUEST_SECONDS / 2
    await feed.close()


async def test_an_expired_request_is_replaced_and_nothing_comes_twice(
    connection: Client, stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pull, "REQUEST_SECONDS", 0.3)
    feed = PullFeed(connection, stream, config("expiring", stream), batch=4)
    await feed.open()
    js = connection.jetstream()
    for n in range(3):
        await js.publish(f"{stream}.a", f"early-{n}".encode())
    assert await take_until(feed, 3) == [b"early-0", b"early-1", b"early-2"]
    assert await feed.take(10) == []  # idle past several request expiries
    for n in range(6):
        await js.publish(f"{stream}.a", f"late-{n}".encode())
    assert await take_until(feed, 6) == [f"late-{n}".encode() for n in range(6)]
    await feed.close()


async def test_a_request_ended_by_the_server_is_replaced(connection: Client, stream: str) -> None:
    feed = PullFeed(connection, stream, config("recreated", stream), batch=8)
    await feed.open()
    js = connection.jetstream()
    await js.publish(f"{stream}.a", b"before")
    assert await take_until(feed, 1) == [b"before"]
    # Deleting the consumer ends the open pull request with a status; it comes back as it was.
    await js.delete_consumer(stream, "recreated")
    await js.add_consumer(stream, config("recreated", stream))
    await js.publish(f"{stream}.a", b"after")
    # The new consumer starts from the stream's first message again.
    assert await take_until(feed, 2) == [b"before", b"after"]
    await feed.close()
