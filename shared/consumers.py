"""Durable JetStream pull consumers, with the delivery rules every service follows.

- A handler acks by returning: its transaction has committed and its events are published.
- A failure is nacked with exponential back-off; after `max_deliver` tries, or at once for a
  message that does not match its contract, it goes to the mode's dead-letter subject.
- `durable_subscriber` hands messages one by one: in order for one tenant, several tenants at
  once up to `concurrency`. `batch_consumer` hands whole batches, in stream order, or up to
  `concurrency` batches at once.
- The loop handles a message as soon as it arrives, with whatever else arrived with it, so a
  message never waits for a batch to fill (`shared.pull`).

Why not FastStream's pull subscribers: its batch mode waits for a full batch or its timeout,
its loop dies on nats-py's plain `TimeoutError` with the messages it had fetched (back only after
ack_wait), and it handles a fetch's messages concurrently, out of order.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from nats.aio.msg import Msg

from shared import subjects
from shared.consumer_loop import JetStreamConsumer, correlated
from shared.service import ServiceRuntime


class ReceivedMessage:
    """One JetStream message as a handler sees it."""

    def __init__(self, raw: Msg) -> None:
        self.raw_message = raw

    @property
    def subject(self) -> str:
        return str(self.raw_message.subject)

    @property
    def body(self) -> bytes:
        return bytes(self.raw_message.data)

    async def in_progress(self) -> None:
        """Tell the server the handler is still at work, so it does not redeliver."""
        await self.raw_message.in_progress()


MessageHandler = Callable[[Any, ReceivedMessage], Awaitable[None]]
BatchHandler = Callable[[list[Msg]], Awaitable[None]]


class BatchConsumer(JetStreamConsumer):
    """Batches of messages; up to `concurrency` batches in hand at once (one: strictly in turn)."""

    def __init__(
        self,
        runtime: ServiceRuntime,
        *,
        handler: BatchHandler,
        concurrency: int = 1,
        **options: Any,
    ) -> None:
        super().__init__(runtime, **options)
        self.handler = handler
        self._slots = asyncio.Semaphore(concurrency)
        self._work: set[asyncio.Task[None]] = set()

    async def _round(self) -> None:
        await self._slots.acquire()
        try:
            batch = await self._fetch(self.max_batch)
        except BaseException:
            self._slots.release()
            raise
        if not batch:
            self._slots.release()
            return
        task = asyncio.create_task(self._handle(batch))
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def _handle(self, batch: list[Msg]) -> None:
        try:
            with correlated(batch[0]):
                try:
                    await self.handler(batch)
                except Exception as exc:  # noqa: BLE001 - every failure is retried or dead-lettered
                    await self.settle(batch, exc)
                    return
            await self.settle(batch, None)
        finally:
            self._slots.release()

    async def _drain(self) -> None:
        if self._work:
            await asyncio.wait(set(self._work), timeout=15)


class MessageConsumer(JetStreamConsumer):
    """One message at a time per tenant, in order; up to `concurrency` tenants at once."""

    def __init__(
        self, runtime: ServiceRuntime, *, handler: MessageHandler, concurrency: int, **options: Any
    ) -> None:
        super().__init__(runtime, **options)
        self.handler = handler
        self._slots = asyncio.Semaphore(concurrency)
        self._chains: dict[str, asyncio.Task[None]] = {}
        self._work: set[asyncio.Task[None]] = set()

    async def _round(self) -> None:
        for msg in await self._fetch(self.max_batch):
            await self._slots.acquire()
            key = subjects.tenant_of(msg.subject) if msg.subject.count(".") >= 3 else ""
            task = asyncio.create_task(self._after(self._chains.get(key), msg))
            self._chains[key] = task
            self._work.add(task)
            task.add_done_callback(functools.partial(self._forget, key=key))

    def _forget(self, task: asyncio.Task[None], *, key: str) -> None:
        self._work.discard(task)
        if self._chains.get(key) is task:
            del self._chains[key]

    async def _after(self, previous: asyncio.Task[None] | None, msg: Msg) -> None:
        try:
            if previous is not None:
                await asyncio.wait([previous])
            with correlated(msg):
                try:
                    await self.handler(msgspec.json.decode(msg.data), ReceivedMessage(msg))
                except Exception as exc:  # noqa: BLE001 - every failure is retried or dead-lettered
                    await self.settle([msg], exc)
                    return
            await self.settle([msg], None)
        finally:
            self._slots.release()

    async def _drain(self) -> None:
        if self._work:
            await asyncio.wait(set(self._work), timeout=15)


def durable_subscriber(
    runtime: ServiceRuntime,
    *,
    subject: str | list[str],
    stream: str,
    durable: str,
    concurrency: int = 1,
    max_batch: int = 16,
) -> Callable[[MessageHandler], MessageHandler]:
    """Register `handler(body, delivery)` on a durable consumer shared by every replica."""

    def register(handler: MessageHandler) -> MessageHandler:
        MessageConsumer(
            runtime,
            handler=handler,
            concurrency=concurrency,
            subject=subject,
            stream=stream,
            durable=durable,
            max_batch=max(max_batch, concurrency),
        )
        return handler

    return register


def batch_consumer(
    runtime: ServiceRuntime,
    *,
    subject: str | list[str],
    stream: str,
    durable: str,
    handler: BatchHandler,
    max_batch: int = 100,
    concurrency: int = 1,
) -> BatchConsumer:
    """Register `handler(messages)` on a durable consumer; it gets whole batches, in order
    unless `concurrency` lets several be handled at once."""
    return BatchConsumer(
        runtime,
        handler=handler,
        concurrency=concurrency,
        subject=subject,
        stream=stream,
        durable=durable,
        max_batch=max_batch,
    )
