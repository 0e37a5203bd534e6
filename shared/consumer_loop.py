"""The loop every durable JetStream consumer of the services runs: a pull feed, rounds of
messages, and the settling of each message (ack, nack with back-off, dead letter); the kinds of
consumer and their rules are in `shared.consumers`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import msgspec
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig
from pydantic import ValidationError

from shared.bus import (
    CORRELATION_HEADER,
    retry_delay,
)
from shared.dead_letters import dead_letter
from shared.logging import correlation_id, new_correlation_id
from shared.pull import PullFeed
from shared.service import ServiceRuntime
from shared.telemetry import MESSAGES_HANDLED, MESSAGES_RETRIED

log = logging.getLogger(__name__)
# Messages that will not decode or validate on the next try either.
# Not JSON, or not the contract: no retry makes it so.
HOPELESS = (ValidationError, json.JSONDecodeError, UnicodeDecodeError, msgspec.DecodeError)


class JetStreamConsumer:
    """A durable pull consumer of one stream: `_round` takes what arrived and handles it; the
    subclass says how."""

    def __init__(
        self,
        runtime: ServiceRuntime,
        *,
        subject: str | list[str],
        stream: str,
        durable: str,
        max_batch: int,
    ) -> None:
        self.runtime, self.stream, self.durable = runtime, stream, durable
        self.subjects = [subject] if isinstance(subject, str) else list(subject)
        self.max_batch = max_batch
        self._task: asyncio.Task[None] | None = None
        self._feed: PullFeed | None = None
        self._running = False
        runtime.on_start.append(self.start)
        runtime.on_stop.insert(0, self.stop)

    async def start(self) -> None:
        settings = self.runtime.settings
        one = len(self.subjects) == 1
        config = ConsumerConfig(
            durable_name=self.durable,
            filter_subject=self.subjects[0] if one else None,
            filter_subjects=None if one else self.subjects,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=settings.ack_wait_seconds,
            # A backstop for a message that kills the process before it is settled.
            max_deliver=settings.max_deliver + 2,
            max_ack_pending=max(1000, self.max_batch * 4),
        )
        self._feed = PullFeed(self.runtime.broker.connection, self.stream, config, self.max_batch)
        await self._feed.open()
        self._running = True
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.durable}")

    async def stop(self) -> None:
        """Finish the work in hand, then stop taking messages."""
        self._running = False
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=15)
            except (TimeoutError, asyncio.CancelledError):
                log.warning("consumer did not stop in time", extra={"durable": self.durable})
            self._task = None
        if self._feed is not None:
            with contextlib.suppress(Exception):
                await self._feed.close()
            self._feed = None

    async def _fetch(self, limit: int) -> list[Msg]:
        assert self._feed is not None
        return await self._feed.take(limit)

    async def _run(self) -> None:
        while self._running:
            try:
                await self._round()
            except Exception:  # the loop must outlive a broker or database hiccup
                log.exception("consumer round failed", extra={"durable": self.durable})
                await asyncio.sleep(1.0)
        await self._drain()

    async def _round(self) -> None:
        raise NotImplementedError

    async def _drain(self) -> None:
        """Wait for work still running when the loop ends."""

    async def settle(self, batch: list[Msg], exc: Exception | None) -> None:
        """Ack what succeeded; nack with back-off, or dead-letter, what failed."""
        service = self.runtime.name
        if exc is None:
            # One after the other: each only queues a publish, and a task per ack costs more.
            for msg in batch:
                await msg.ack()
            MESSAGES_HANDLED.labels(service, "ok").inc(len(batch))
            return
        settings = self.runtime.settings
        attempt = max(int(msg.metadata.num_delivered or 1) for msg in batch)
        if attempt < settings.max_deliver and not isinstance(exc, HOPELESS):
            delay = retry_delay(attempt, settings)
            MESSAGES_RETRIED.labels(service).inc(len(batch))
            log.warning(
                "handler failed, will retry",
                extra={
                    "subject": batch[0].subject,
                    "messages": len(batch),
                    "attempt": attempt,
                    "retry_in_s": delay,
                    "error": repr(exc),
                },
            )
            for msg in batch:
                await msg.nak(delay=delay)
            return
        await dead_letter(self.runtime, batch, exc)
        for msg in batch:
            await msg.ack()
        log.error(
            "handler failed for the last time, message(s) dead-lettered",
            extra={
                "subject": batch[0].subject,
                "messages": len(batch),
                "attempt": attempt,
                "error": repr(exc),
            },
        )


def correlated(msg: Msg) -> contextlib.AbstractContextManager[None]:
    @contextlib.contextmanager
    def scope() -> Any:
        token = correlation_id.set(
            (msg.headers or {}).get(CORRELATION_HEADER) or new_correlation_id()
        )
        try:
            yield
        finally:
            correlation_id.reset(token)

    return scope()
