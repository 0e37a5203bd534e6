"""Events as the gateway sees them: fanned out to WebSocket clients and to requests waiting
for an outcome. Every gateway replica gets every event (a core subscription)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from shared.modes import Mode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BusEvent:
    mode: Mode
    tenant_id: str
    name: str  # "tenant.accepted"
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.name,
            "mode": self.mode.value,
            "tenant_id": self.tenant_id,
            "data": self.data,
        }


@dataclass(eq=False)
class Subscriber:
    """One WebSocket client: a bounded queue, so a slow client can never grow memory."""

    mode: Mode
    tenant_id: str | None
    queue: asyncio.Queue[dict[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=1000)
    )
    overflowed: bool = False
    # Event names asked for (`deployment.succeeded`, or `deployment.*` for an aggregate's); None
    # for every event.
    names: frozenset[str] | None = None

    def wants(self, mode: Mode, tenant_id: str, name: str) -> bool:
        if mode is not self.mode or self.tenant_id not in (None, tenant_id):
            return False
        names = self.names
        return names is None or name in names or name.split(".", 1)[0] + ".*" in names


class EventHub:
    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self.waiters: dict[
            tuple[Mode, str, int], list[tuple[frozenset[str], asyncio.Future[BusEvent]]]
        ] = defaultdict(list)
        self.waiting: Counter[tuple[Mode, str]] = Counter()  # revisions waited for, per tenant

    def subscribe(
        self, mode: Mode, tenant_id: str | None, names: frozenset[str] | None = None
    ) -> Subscriber:
        subscriber = Subscriber(mode, tenant_id, names=names)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def expect(
        self, mode: Mode, tenant_id: str, revision: int, events: set[str]
    ) -> asyncio.Future[BusEvent]:
        """A future resolved by the first of `events` for this tenant's revision."""
        future: asyncio.Future[BusEvent] = asyncio.get_running_loop().create_future()
        key = (mode, tenant_id, revision)
        if key not in self.waiters:
            self.waiting[(mode, tenant_id)] += 1
        self.waiters[key].append((frozenset(events), future))
        return future

    def forget(self, mode: Mode, tenant_id: str, revision: int) -> None:
        if self.waiters.pop((mode, tenant_id, revision), None) is not None:
            self.waiting[(mode, tenant_id)] -= 1
            if not self.waiting[(mode, tenant_id)]:
                del self.waiting[(mode, tenant_id)]

    def interested(self, mode: Mode, tenant_id: str, name: str) -> bool:
        """Whether a request or a client waits for this event: if not, it is not even parsed
        (a deployment's manifest event alone is some 20 KB of JSON)."""
        return (mode, tenant_id) in self.waiting or any(
            s.wants(mode, tenant_id, name) for s in self.subscribers
        )

    def dispatch(self, event: BusEvent) -> None:
        key = (event.mode, event.tenant_id, int(event.data.get("revision", 0)))
        for names, future in self.waiters.get(key, []):
            if event.name in names and not future.done():
                future.set_result(event)
        message = event.to_json()
        for subscriber in list(self.subscribers):
            if not subscriber.wants(event.mode, event.tenant_id, event.name):
                continue
            try:
                subscriber.queue.put_nowait(message)
            except asyncio.QueueFull:
                # The client is not reading: it is dropped rather than allowed to hold memory.
                subscriber.overflowed = True
                self.subscribers.discard(subscriber)
                log.warning(
                    "slow WebSocket client dropped", extra={"tenant_id": subscriber.tenant_id}
                )
