"""Which events a `/ws/events` subscriber gets: its mode, its tenant, the names it asked for;
and the subjects its filter becomes."""

import pytest

from services.gateway.events import (
    BusEvent,
    EventHub,
    Interest,
    InvalidFilterError,
    Subscriber,
    filter_subjects,
)
from services.gateway.routes.events_ws import event_names
from shared.modes import Mode


def event(name: str, tenant: str = "acme", mode: Mode = Mode.demo) -> BusEvent:
    return BusEvent(mode=mode, tenant_id=tenant, name=name, data={"revision": 1})


def test_names_asked_for_exactly_or_by_aggregate():
    hub = EventHub()
    exact = Subscriber(Mode.demo, None, names=frozenset({"deployment.succeeded"}))
    aggregate = Subscriber(Mode.demo, None, names=frozenset({"alert.*"}))
    everything = Subscriber(Mode.demo, None)
    one_tenant = Subscriber(Mode.demo, "other", names=frozenset({"deployment.succeeded"}))
    interest = Interest("ecp.demo.evt.>", {exact, aggregate, everything, one_tenant})
    for name in ("deployment.progress", "deployment.succeeded", "alert.firing", "tenant.sized"):
        hub.dispatch(interest, event(name))
    hub.dispatch(interest, event("deployment.succeeded", mode=Mode.prod))

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


def test_a_filter_becomes_subjects_that_never_overlap():
    assert filter_subjects(Mode.demo, None, None) == ["ecp.demo.evt.*.>"]
    assert filter_subjects(Mode.prod, "acme", None) == ["ecp.prod.evt.acme.>"]
    names = frozenset({"deployment.*", "deployment.succeeded", "alert.firing"})
    # deployment.succeeded is one of deployment.*: subscribed twice it would come twice.
    assert filter_subjects(Mode.demo, "acme", names) == [
        "ecp.demo.evt.acme.alert.firing",
        "ecp.demo.evt.acme.deployment.*",
    ]


@pytest.mark.parametrize(
    ("tenant_id", "names"),
    [
        ("acme.>", None),
        ("*", None),
        ("Acme", None),
        (None, frozenset({">"})),
        (None, frozenset({"deployment"})),
        (None, frozenset({"deployment.succeeded.x"})),
        (None, frozenset({"*.succeeded"})),
        (None, frozenset({"deployment.succ eeded"})),
    ],
)
def test_a_filter_that_is_no_tenant_or_no_event_name_is_refused(tenant_id, names):
    with pytest.raises(InvalidFilterError):
        filter_subjects(Mode.demo, tenant_id, names)


async def test_an_event_nobody_waits_for_is_not_wanted():
    hub = EventHub()
    waited = Interest("ecp.demo.evt.*.tenant.sized", for_waiters=True)
    assert not hub.interested(waited, Mode.demo, "acme", "tenant.sized")
    hub.expect(Mode.demo, "acme", 1, {"tenant.sized"})
    hub.expect(Mode.demo, "acme", 1, {"tenant.rejected"})
    assert hub.interested(waited, Mode.demo, "acme", "tenant.sized")
    assert not hub.interested(waited, Mode.demo, "other", "tenant.sized")
    assert not hub.interested(waited, Mode.prod, "acme", "tenant.sized")
    # Only the waiters' own subscriptions answer them.
    assert not hub.interested(Interest("ecp.demo.evt.*.>"), Mode.demo, "acme", "tenant.sized")
    hub.forget(Mode.demo, "acme", 1)
    assert not hub.interested(waited, Mode.demo, "acme", "tenant.sized")
    clients = Interest("ecp.demo.evt.*.deployment.*")
    clients.subscribers.add(Subscriber(Mode.demo, None, names=frozenset({"deployment.*"})))
    assert hub.interested(clients, Mode.demo, "acme", "deployment.progress")
    assert not hub.interested(clients, Mode.demo, "acme", "manifest.rendered")


async def test_only_events_that_have_subscriptions_may_be_waited_for():
    with pytest.raises(ValueError, match="can be waited for"):
        EventHub().expect(Mode.demo, "acme", 1, {"deployment.succeeded"})
