"""Events as the gateway sees them: fanned out to WebSocket clients and to requests waiting
for an outcome.

A replica subscribes to the events somebody connected to it asks for, not to every event: a
deployment publishes some twenty (one of them the whole manifest), and a client waiting for
outcomes wants two. Each subject a client's filter becomes is one NATS subscription, shared by
the clients asking for the same; a client's subjects never overlap one another, and an event
that comes through one subscription goes only to the clients of that subscription, so an
event matched by two subscriptions still reaches each client once."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from shared import subjects
from shared.contracts.tenants import TENANT_ID_MAX_LENGTH, TENANT_ID_PATTERN
from shared.modes import Mode

log = logging.getLogger(__name__)
# What a request may wait for: their subscriptions stand from start, so a request never
# waits for a subscription of its own.
WAITABLE_EVENTS = frozenset({"tenant.sized", "tenant.rejected", "tenant.deleted"})
EVENT_FILTER = re.compile(r"^[a-z][a-z0-9-]*\.([a-z][a-z0-9-]*|\*)$")


SUBSCRIBE_TIMEOUT_SECONDS = 5


class InvalidFilterError(ValueError):
    pass


class BrokerUnavailableError(RuntimeError):
    pass


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


def event_address(subject: str) -> tuple[Mode, str, str]:
    """(mode, tenant, event name) of `ecp.<mode>.evt.<tenant>.<aggregate>.<event>`."""
    return Mode(subject.split(".")[1]), subjects.tenant_of(subject), subjects.event_name_of(subject)


def parse_event(subject: str, data: bytes) -> BusEvent:
    return BusEvent(*event_address(subject), msgspec.json.decode(data))


def filter_subjects(mode: Mode, tenant_id: str | None, names: frozenset[str] | None) -> list[str]:
    """The subjects that carry the events a client asks for, none overlapping another: a name
    its aggregate's `*` also asks for is left out."""
    if tenant_id is not None and (
        len(tenant_id) > TENANT_ID_MAX_LENGTH or not TENANT_ID_PATTERN.match(tenant_id)
    ):
        raise InvalidFilterError(f"tenant_id {tenant_id[:60]!r} is not a tenant id")
    tenant = tenant_id or subjects.ANY
    if names is None:
        return [f"ecp.{mode}.evt.{tenant}.>"]
    invalid = sorted(name for name in names if not EVENT_FILTER.match(name))
    if invalid:
        raise InvalidFilterError(
            f"events {', '.join(invalid)[:80]!r}: each is aggregate.event or aggregate.*"
        )
    whole = {name.split(".")[0] for name in names if name.endswith(".*")}
    return sorted(
        subjects.event(mode, tenant, *name.split("."))
        for name in names
        if name.endswith(".*") or name.split(".")[0] not in whole
    )


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
    subjects: list[str] = field(default_factory=list)

    def wants(self, mode: Mode, tenant_id: str, name: str) -> bool:
        if mode is not self.mode or self.tenant_id not in (None, tenant_id):
            return False
        names = self.names
        return names is None or name in names or name.split(".", 1)[0] + ".*" in names


@dataclass(eq=False)
class Interest:
    """One subject somebody here wants, its subscription, and who it is for."""

    subject: str
    subscribers: set[Subscriber] = field(default_factory=set)
    for_waiters: bool = False
    subscription: Subscription | None = None


class EventHub:
    def __init__(self) -> None:
        self.connection: Client | None = None
        self.interests: dict[str, Interest] = {}
        self._changing = asyncio.Lock()
        self.waiters: dict[
            tuple[Mode, str, int], list[tuple[frozenset[str], asyncio.Future[BusEvent]]]
        ] = defaultdict(list)
        self.waiting: Counter[tuple[Mode, str]] = Counter()  # revisions waited for, per tenant

    async def start(self, connection: Client) -> None:
        """Subscribe what requests may wait for (every replica: a request waits where it came)."""
        self.connection = connection
        async with self._changing:
            for mode in Mode:
                for name in sorted(WAITABLE_EVENTS):
                    subject = subjects.event(mode, subjects.ANY, *name.split("."))
                    (await self._hold(subject)).for_waiters = True
            await connection.flush()

    async def subscribe(
        self, mode: Mode, tenant_id: str | None, names: frozenset[str] | None = None
    ) -> Subscriber:
        """A client of these events, from the moment this returns (the server has its
        subscriptions). Raises InvalidFilterError for a filter that is not a tenant id or not
        event names, BrokerUnavailableError when NATS does not confirm the subscriptions."""
        subscriber = Subscriber(
            mode, tenant_id, names=names, subjects=filter_subjects(mode, tenant_id, names)
        )
        async with self._changing:
            try:
                for subject in subscriber.subjects:
                    (await self._hold(subject)).subscribers.add(subscriber)
                await self._bus().flush(timeout=SUBSCRIBE_TIMEOUT_SECONDS)
            except Exception as error:
                with contextlib.suppress(Exception):
                    await self._release(subscriber)
                raise BrokerUnavailableError("the message broker is not reachable") from error
        return subscriber

    async def unsubscribe(self, subscriber: Subscriber) -> None:
        async with self._changing:
            await self._release(subscriber)

    async def _release(self, subscriber: Subscriber) -> None:
        for subject in subscriber.subjects:
            interest = self.interests.get(subject)
            if interest is None:
                continue
            interest.subscribers.discard(subscriber)
            if not interest.subscribers and not interest.for_waiters:
                del self.interests[subject]
                if interest.subscription is not None:
                    await interest.subscription.unsubscribe()

    def expect(
        self, mode: Mode, tenant_id: str, revision: int, events: set[str]
    ) -> asyncio.Future[BusEvent]:
        """A future resolved by the first of `events` for this tenant's revision."""
        if not events <= WAITABLE_EVENTS:
            raise ValueError(f"only {sorted(WAITABLE_EVENTS)} can be waited for")
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

    def interested(self, interest: Interest, mode: Mode, tenant_id: str, name: str) -> bool:
        """Whether a request or a client of this subscription waits for this event: if not, it
        is not even parsed."""
        return (interest.for_waiters and (mode, tenant_id) in self.waiting) or any(
            s.wants(mode, tenant_id, name) for s in interest.subscribers
        )

    def dispatch(self, interest: Interest, event: BusEvent) -> None:
        if interest.for_waiters:
            key = (event.mode, event.tenant_id, int(event.data.get("revision", 0)))
            for names, future in self.waiters.get(key, []):
                if event.name in names and not future.done():
                    future.set_result(event)
        message = event.to_json()
        for subscriber in list(interest.subscribers):
            if not subscriber.wants(event.mode, event.tenant_id, event.name):
                continue
            try:
                subscriber.queue.put_nowait(message)
            except asyncio.QueueFull:
                # The client is not reading: it is dropped rather than allowed to hold memory.
                subscriber.overflowed = True
                for subject in subscriber.subjects:
                    if subject in self.interests:
                        self.interests[subject].subscribers.discard(subscriber)
                log.warning(
                    "slow WebSocket client dropped", extra={"tenant_id": subscriber.tenant_id}
                )

    async def _relay(self, interest: Interest, msg: Msg) -> None:
        if self.interests.get(interest.subject) is not interest:
            return  # what an ended subscription had already received
        address = event_address(msg.subject)
        if self.interested(interest, *address):
            self.dispatch(interest, BusEvent(*address, msgspec.json.decode(msg.data)))

    async def _hold(self, subject: str) -> Interest:
        interest = self.interests.get(subject)
        if interest is None:
            interest = Interest(subject)
            # A plain nats-py subscription: nothing answers the publisher's ack inbox (a reply
            # would race the server's ack) and no framework runs per event.
            interest.subscription = await self._bus().subscribe(
                subject, cb=functools.partial(self._relay, interest)
            )
            self.interests[subject] = interest
        return interest

    def _bus(self) -> Client:
        if self.connection is None:
            raise RuntimeError("the event hub is not started")
        return self.connection
