"""Which events a `/ws/events` subscriber gets: its mode, its tenant, the names it asked for."""

from services.gateway.events import BusEvent, EventHub
from services.gateway.routes.events_ws import event_names
from shared.modes import Mode


def event(name: str, tenant: str = "acme", mode: Mode = Mode.demo) -> BusEvent:
    return BusEvent(mode=mode, tenant_id=tenant, name=name, data={"revision": 1})


def test_names_asked_for_exactly_or_by_aggregate():
    hub = EventHub()
    exact = hub.subscribe(Mode.demo, None, frozenset({"deployment.succeeded"}))
    aggregate = hub.subscribe(Mode.demo, None, frozenset({"alert.*"}))
    everything = hub.subscribe(Mode.demo, None)
    one_tenant = hub.subscribe(Mode.demo, "other", frozenset({"deployment.succeeded"}))
    for name in ("deployment.progress", "deployment.succeeded", "alert.firing", "tenant.sized"):
        hub.dispatch(event(name))
    hub.dispatch(event("deployment.succeeded", mode=Mode.prod))

    def names(subscriber) -> list[str]:
        got = []
        while not subscriber.queue.empty():
            got.append(subscriber.queue.get_nowait()["event"])
        return got

    assert names(exact) == ["deployment.succeeded"]
    assert names(aggregate) == ["alert.firing"]
    assert names(everything) == [
        "deployment.progress",
        "deployment.succeeded",
        "alert.firing",
        "tenant.sized",
    ]
    assert names(one_tenant) == []


def test_events_parameter_is_read_as_a_comma_separated_list():
    assert event_names({}) is None
    assert event_names({"events": " , "}) is None
    assert event_names({"events": "deployment.succeeded, deployment.failed"}) == frozenset(
        {"deployment.succeeded", "deployment.failed"}
    )


async def test_an_event_nobody_waits_for_is_not_wanted():
    hub = EventHub()
    assert not hub.interested(Mode.demo, "acme", "manifest.rendered")
    hub.expect(Mode.demo, "acme", 1, {"tenant.sized"})
    hub.expect(Mode.demo, "acme", 1, {"tenant.rejected"})
    assert hub.interested(Mode.demo, "acme", "manifest.rendered")
    assert not hub.interested(Mode.demo, "other", "manifest.rendered")
    assert not hub.interested(Mode.prod, "acme", "manifest.rendered")
    hub.forget(Mode.demo, "acme", 1)
    assert not hub.interested(Mode.demo, "acme", "manifest.rendered")
    hub.subscribe(Mode.demo, None, frozenset({"deployment.*"}))
    assert hub.interested(Mode.demo, "acme", "deployment.progress")
    assert not hub.interested(Mode.demo, "acme", "manifest.rendered")
