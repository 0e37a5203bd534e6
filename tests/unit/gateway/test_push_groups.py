"""Group commit of pushes: a lone push goes at once; pushes arriving while one is in flight go
together in the next message, in order; a failed publish fails only its own group."""

import asyncio

import pytest

from services.gateway.push_groups import MAX_SAMPLES_PER_MESSAGE, PushGroups

pytestmark = pytest.mark.unit


class Broker:
    def __init__(self) -> None:
        self.published: list[tuple[str, list[dict]]] = []
        self.release = asyncio.Event()
        self.fail_next = False

    async def publish(self, batch_id: str, samples: list[dict]) -> None:
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker away")
        self.published.append((batch_id, samples))


def samples(*values: float) -> list[dict]:
    return [{"name": "cpu_usage", "value": v} for v in values]


async def test_a_lone_push_is_published_at_once_and_answered_with_its_batch():
    groups, broker = PushGroups(), Broker()
    broker.release.set()
    batch_id = await groups.push("k", "acme", samples(1), broker.publish)
    assert broker.published == [(batch_id, samples(1))]
    assert batch_id.startswith("push:") and batch_id.endswith(":acme")
    assert groups.lanes == {}


async def test_pushes_arriving_while_one_is_in_flight_travel_together():
    groups, broker = PushGroups(), Broker()
    first = asyncio.create_task(groups.push("k", "acme", samples(1), broker.publish))
    await asyncio.sleep(0)  # the first is in flight, held by the broker
    rest = [
        asyncio.create_task(groups.push("k", "acme", samples(v), broker.publish)) for v in (2, 3)
    ]
    other = asyncio.create_task(groups.push("j", "beta", samples(9), broker.publish))
    await asyncio.sleep(0)
    broker.release.set()
    ids = await asyncio.gather(first, *rest, other)
    assert ids[1] == ids[2] != ids[0] != ids[3]
    by_id = dict(broker.published)
    assert by_id[ids[0]] == samples(1) and by_id[ids[1]] == samples(2, 3)
    assert by_id[ids[3]] == samples(9)
    assert groups.lanes == {}


async def test_a_group_never_exceeds_the_message_limit():
    groups, broker = PushGroups(), Broker()
    big = samples(*range(MAX_SAMPLES_PER_MESSAGE - 1))
    first = asyncio.create_task(groups.push("k", "acme", samples(0), broker.publish))
    await asyncio.sleep(0)
    pending = [
        asyncio.create_task(groups.push("k", "acme", s, broker.publish))
        for s in (big, samples(1, 2))
    ]
    await asyncio.sleep(0)
    broker.release.set()
    await asyncio.gather(first, *pending)
    assert [len(s) for _, s in broker.published] == [1, MAX_SAMPLES_PER_MESSAGE - 1, 2]


async def test_a_failed_publish_fails_its_group_and_the_next_group_still_goes():
    groups, broker = PushGroups(), Broker()
    broker.fail_next = True
    first = asyncio.create_task(groups.push("k", "acme", samples(1), broker.publish))
    await asyncio.sleep(0)
    second = asyncio.create_task(groups.push("k", "acme", samples(2), broker.publish))
    await asyncio.sleep(0)
    broker.release.set()
    with pytest.raises(ConnectionError):
        await first
    assert (await second) == broker.published[0][0]
    assert broker.published[0][1] == samples(2)


async def test_a_lone_push_never_waits_for_the_linger():
    groups, broker = PushGroups(linger_s=60.0), Broker()
    broker.release.set()
    batch_id = await asyncio.wait_for(groups.push("k", "acme", samples(1), broker.publish), 1.0)
    assert broker.published == [(batch_id, samples(1))]


async def test_after_a_burst_the_next_pushes_linger_and_travel_together():
    """A push that arrived while a message was in flight waits the linger; one arriving during
    the linger joins it (without the linger, each would be a message of its own)."""
    groups, broker = PushGroups(linger_s=0.2), Broker()
    first = asyncio.create_task(groups.push("k", "acme", samples(1), broker.publish))
    await asyncio.sleep(0)
    second = asyncio.create_task(groups.push("k", "acme", samples(2), broker.publish))
    await asyncio.sleep(0)
    broker.release.set()
    await first
    assert not second.done()  # lingering
    third = asyncio.create_task(groups.push("k", "acme", samples(3), broker.publish))
    assert await second == await third
    assert [s for _, s in broker.published] == [samples(1), samples(2, 3)]
    assert groups.lanes == {}
