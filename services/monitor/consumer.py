"""A durable JetStream pull consumer that hands many messages at once to one handler.

Why not `shared.bus.durable_subscriber(batch=True)`: FastStream 0.7.8's pull loop catches
`nats.errors.TimeoutError` only, while nats-py 2.16 raises the plain `asyncio.TimeoutError` when a
fetch's deadline runs out between its two pull requests. The loop task dies with the messages it
had already fetched, its supervisor restarts it, and those messages wait for `ack_wait` (30 s)
before they come back. This loop catches both and acks each batch after the handler returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerConfig
from nats.js.errors import ServiceUnavailableError

from shared.bus import retry_delay
from shared.settings import Settings
from shared.telemetry import MESSAGES_HANDLED, MESSAGES_RETRIED

log = logging.getLogger(__name__)
FETCH_SECONDS = 1.0
SERVICE = "monitor"


class BatchConsumer:
    def __init__(
        self,
        settings: Settings,
        *,
        subject: str,
        stream: str,
        durable: str,
        batch_size: int,
        handle: Callable[[list[Msg]], Awaitable[None]],
    ) -> None:
        self.settings, self.subject, self.stream, self.durable = settings, subject, stream, durable
        self.batch_size, self.handle = batch_size, handle
        self.running = False
        self.task: asyncio.Task[None] | None = None
        self.subscription: object | None = None

    async def start(self, connection: Client) -> None:
        subscription = await connection.jetstream().pull_subscribe(
            self.subject,
            durable=self.durable,
            stream=self.stream,
            config=ConsumerConfig(
                durable_name=self.durable,
                filter_subject=self.subject,
                ack_wait=self.settings.ack_wait_seconds,
                max_deliver=self.settings.max_deliver + 2,
                max_ack_pending=max(20_000, self.batch_size * 4),
            ),
        )
        self.running = True
        self.subscription = subscription
        self.task = asyncio.create_task(self.consume(subscription), name=self.durable)

    async def stop(self) -> None:
        """Finish the batch in hand (it is acked), then stop fetching."""
        self.running = False
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.task, timeout=FETCH_SECONDS + 15)
            self.task = None
        if self.subscription is not None:
            # Left subscribed, the connection's drain at broker stop waits its full timeout.
            with contextlib.suppress(Exception):
                await self.subscription.unsubscribe()  # type: ignore[attr-defined]
            self.subscription = None

    async def consume(self, subscription: object) -> None:
        fetch = subscription.fetch  # type: ignore[attr-defined]
        while self.running:
            try:
                messages: list[Msg] = await fetch(self.batch_size, timeout=FETCH_SECONDS)
            except (TimeoutError, NatsTimeoutError):
                continue
            except (ConnectionClosedError, ServiceUnavailableError) as error:
                log.warning("fetch failed", extra={"consumer": self.durable, "error": repr(error)})
                await asyncio.sleep(FETCH_SECONDS)
                continue
            await self.deliver(messages)

    async def deliver(self, messages: list[Msg]) -> None:
        try:
            await self.handle(messages)
        except Exception as error:  # noqa: BLE001 - every failure is a delayed redelivery
            attempt = min(int(m.metadata.num_delivered or 1) for m in messages)
            delay = retry_delay(attempt, self.settings)
            log.error(
                "batch failed, will be redelivered",
                extra={"consumer": self.durable, "error": repr(error), "retry_in_s": delay},
            )
            await asyncio.gather(*(m.nak(delay=delay) for m in messages))
            MESSAGES_RETRIED.labels(SERVICE).inc(len(messages))
            return
        await asyncio.gather(*(m.ack() for m in messages))
        MESSAGES_HANDLED.labels(SERVICE, "ok").inc(len(messages))
