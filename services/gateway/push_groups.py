"""Group commit for pushed samples: one message of a tenant's samples in flight at a time, and
what arrives meanwhile travels together in the next one.

Every metrics message costs each of its readers (the monitor, the alerts service, every
gateway's live relay) and the broker about the same whatever its size, so a tenant whose pods
push many small requests at once costs as many messages as requests. A lone push is published
at once. Pushes that arrived while a message was in flight show a burst: they wait a little
longer (`linger_s`, ECP_PUSH_LINGER_MS) so that the burst's next pushes travel with them. At
5 ms, a seed-shaped load (20 tenants, 64 connections) costs the system about a quarter less CPU
per push, for at most 5 ms more per push, and only during a burst.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from shared.ids import unique_hex

MAX_SAMPLES_PER_MESSAGE = 5_000  # keeps a grouped message far below the broker's payload limit

Publish = Callable[[str, list[dict[str, Any]]], Awaitable[None]]  # (batch id, samples)


@dataclass
class Waiting:
    samples: list[dict[str, Any]]
    done: asyncio.Future[str]  # the batch id the samples were published in


@dataclass
class Lane:
    waiting: list[Waiting] = field(default_factory=list)


class PushGroups:
    """The tenants' lanes: a lane exists while its tenant has samples waiting or in flight."""

    def __init__(self, linger_s: float = 0.0) -> None:
        self.linger_s = linger_s
        self.lanes: dict[Any, Lane] = {}
        self.draining: set[asyncio.Task[None]] = set()

    async def push(
        self, lane_key: Any, tenant_id: str, samples: list[dict[str, Any]], publish: Publish
    ) -> str:
        """Publishes `samples`, perhaps with others of the lane; the batch id they went in.
        Raises what the publish raised. The push that opens a lane lends the lane its `publish`
        (the same for every push of one key) and its correlation id."""
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        lane = self.lanes.get(lane_key)
        if lane is None:
            lane = self.lanes[lane_key] = Lane()
            task = asyncio.create_task(self.drain(lane_key, lane, tenant_id, publish))
            self.draining.add(task)
            task.add_done_callback(self.draining.discard)
        lane.waiting.append(Waiting(samples, done))
        return await done

    async def drain(self, lane_key: Any, lane: Lane, tenant_id: str, publish: Publish) -> None:
        try:
            burst = False  # the first group is published at once
            while lane.waiting:
                if burst and self.linger_s > 0:
                    await asyncio.sleep(self.linger_s)
                burst = True
                group = next_group(lane)
                batch_id = f"push:{unique_hex()}:{tenant_id}"
                try:
                    await publish(batch_id, [s for w in group for s in w.samples])
                except Exception as error:  # noqa: BLE001 - every request of the group gets it
                    settle(group, error=error)
                except BaseException as error:
                    settle(group, error=error)
                    raise
                else:
                    settle(group, batch_id=batch_id)
        finally:
            del self.lanes[lane_key]
            settle(lane.waiting, error=asyncio.CancelledError())  # the gateway is stopping


def next_group(lane: Lane) -> list[Waiting]:
    """The oldest waiting pushes, as many as fit in one message (at least one)."""
    size, count = 0, 0
    for waiting in lane.waiting:
        if count and size + len(waiting.samples) > MAX_SAMPLES_PER_MESSAGE:
            break
        size, count = size + len(waiting.samples), count + 1
    group, lane.waiting[:] = lane.waiting[:count], lane.waiting[count:]
    return group


def settle(
    group: list[Waiting], *, batch_id: str | None = None, error: BaseException | None = None
) -> None:
    for waiting in group:
        if waiting.done.done():
            continue  # its request went away; its samples were sent all the same
        if isinstance(error, asyncio.CancelledError):
            waiting.done.cancel()
        elif error is not None:
            waiting.done.set_exception(error)
        elif batch_id is not None:
            waiting.done.set_result(batch_id)
