"""A durable pull consumer that hands its handler whole batches, in stream order.

FastStream's batch subscriber waits for a full batch or its timeout (adding that timeout to
every message's latency under light load), and its single-message pull handles a fetch's
messages concurrently, out of order. This loop waits for the first message, takes whatever else
is there within a few milliseconds, and acks, retries or dead-letters the batch as one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import nats.errors
from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig

from shared.bus import CORRELATION_HEADER, settle_failure
from shared.logging import correlation_id, new_correlation_id
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.telemetry import MESSAGES_HANDLED

log = logging.getLogger(__name__)
BatchHandler = Callable[[list[Msg]], Awaitable[None]]
FETCH_ERRORS = (nats.errors.TimeoutError, asyncio.TimeoutError)


class BatchConsumer:
    def __init__(
        self,
        broker: NatsBroker,
        settings: Settings,
        service: str,
        *,
        subject: str,
        stream: str,
        durable: str,
        handler: BatchHandler,
        max_batch: int = 100,
        linger_seconds: float = 0.005,
    ) -> None:
        self.broker, self.settings, self.service = broker, settings, service
        self.subject, self.stream, self.durable = subject, stream, durable
        self.handler, self.max_batch, self.linger = handler, max_batch, linger_seconds
        self._task: asyncio.Task[None] | None = None
        self._running = False

    async def start(self) -> None:
        js = self.broker.connection.jetstream()
        config = ConsumerConfig(
            durable_name=self.durable,
            filter_subject=self.subject,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.settings.ack_wait_seconds,
            max_deliver=self.settings.max_deliver + 2,
            max_ack_pending=max(1000, self.max_batch * 4),
        )
        self._subscription = await js.pull_subscribe(
            self.subject, durable=self.durable, stream=self.stream, config=config
        )
        self._running = True
        self._task = asyncio.create_task(self._run(), name=f"batch-consumer-{self.durable}")

    async def stop(self) -> None:
        self._running = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _fetch(self) -> list[Msg]:
        try:
            batch: list[Msg] = await self._subscription.fetch(1, timeout=5.0)
        except FETCH_ERRORS:
            return []
        if self.max_batch > 1:
            with contextlib.suppress(*FETCH_ERRORS):
                batch += await self._subscription.fetch(self.max_batch - 1, timeout=self.linger)
        return batch

    async def _run(self) -> None:
        while self._running:
            try:
                batch = await self._fetch()
                if batch:
                    await self._handle(batch)
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must outlive a broker or database hiccup
                log.exception("batch consumer failed; retrying", extra={"durable": self.durable})
                await asyncio.sleep(1.0)

    async def _handle(self, batch: list[Msg]) -> None:
        headers = batch[0].headers or {}
        token = correlation_id.set(headers.get(CORRELATION_HEADER) or new_correlation_id())
        try:
            await self.handler(batch)
        except Exception as exc:  # noqa: BLE001 - every failure is retried or dead-lettered
            attempt = max(msg.metadata.num_delivered or 1 for msg in batch)
            delay = await settle_failure(
                self.broker, self.service, self.settings, batch, attempt, exc
            )
            for msg in batch:
                await (msg.nak(delay=delay) if delay is not None else msg.ack())
            return
        finally:
            correlation_id.reset(token)
        for msg in batch:
            await msg.ack()
        MESSAGES_HANDLED.labels(self.service, "ok").inc(len(batch))


def batch_consumer(runtime: ServiceRuntime, **options: Any) -> BatchConsumer:
    """A batch consumer started and stopped with the service's runtime."""
    consumer = BatchConsumer(runtime.broker, runtime.settings, runtime.name, **options)
    runtime.on_start.append(consumer.start)
    runtime.on_stop.insert(0, consumer.stop)
    return consumer
