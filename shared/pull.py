"""A durable pull consumer's messages as a continuous feed.

One pull request of `batch` messages is kept open on the server; its messages arrive on an inbox
as soon as they are stored, and the next request goes out when this one is used up or expires.
A caller takes the first message as it arrives and whatever else has arrived with it.

Why not nats-py's `fetch`: a fetch ends before the caller handles its messages, so every message
pays for a new request; and asking for more than one message either waits for the batch to fill
or, with `no_wait` and an expiry (which nats-py always sends), for the whole expiry.
"""

from __future__ import annotations

import asyncio
import json
import time

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import ConsumerConfig, Header

# How long one pull request stays open on the server. A request lost with a server restart is
# replaced once this much (and a margin) has passed without a word from it.
REQUEST_SECONDS = 5.0
LOST_AFTER_SECONDS = REQUEST_SECONDS + 2.0
# `take` returns empty-handed this often, so its caller can notice it is asked to stop.
IDLE_RETURN_SECONDS = 1.0
HEARTBEAT = "100"


class PullFeed:
    def __init__(self, connection: Client, stream: str, config: ConsumerConfig, batch: int) -> None:
        self.connection, self.stream, self.config, self.batch = connection, stream, config, batch
        self._queue: asyncio.Queue[Msg] = asyncio.Queue()
        self._subscription: Subscription | None = None
        self._inbox = ""
        self._owed = 0  # messages the open request may still deliver
        self._heard_at = 0.0

    async def open(self) -> None:
        """Create or update the durable consumer, then listen on an inbox of our own."""
        await self.connection.jetstream().add_consumer(self.stream, self.config)
        self._inbox = self.connection.new_inbox()
        self._subscription = await self.connection.subscribe(self._inbox, cb=self._arrived)

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None

    async def _arrived(self, msg: Msg) -> None:
        self._queue.put_nowait(msg)

    async def _request(self) -> None:
        self._owed, self._heard_at = self.batch, time.monotonic()
        body = {"batch": self.batch, "expires": int(REQUEST_SECONDS * 1e9)}
        await self.connection.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self.config.durable_name}",
            json.dumps(body).encode(),
            reply=self._inbox,
        )

    async def take(self, limit: int) -> list[Msg]:
        """The next message, waited for up to a second, and up to `limit` - 1 already here."""
        taken: list[Msg] = []
        deadline = time.monotonic() + IDLE_RETURN_SECONDS
        while not taken:
            now = time.monotonic()
            if self._owed <= 0 or now - self._heard_at > LOST_AFTER_SECONDS:
                await self._request()
            if now >= deadline:
                return taken
            try:
                msg = await asyncio.wait_for(self._queue.get(), timeout=deadline - now)
            except TimeoutError:
                return taken
            self._sort(msg, taken)
            while len(taken) < limit and not self._queue.empty():
                self._sort(self._queue.get_nowait(), taken)
        return taken

    def _sort(self, msg: Msg, taken: list[Msg]) -> None:
        """A message goes to `taken`; a status (expired, no more, heartbeat) only informs."""
        self._heard_at = time.monotonic()
        status = msg.headers.get(Header.STATUS) if msg.headers else None
        if status is None:
            self._owed -= 1
            taken.append(msg)
        elif status != HEARTBEAT:
            self._owed = 0  # the request has ended (timed out, or the consumer changed)
