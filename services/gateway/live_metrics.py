"""Live samples in the gateway: every replica follows `ecp.*.metrics.>` to stream each tenant's
latest values to its WebSocket clients and to expose them on `/metrics`."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from prometheus_client.core import REGISTRY, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.gateway.deps import Gateway
from shared.contracts.monitoring import METRIC_ALIASES, metric_names_for
from shared.modes import Mode

log = logging.getLogger(__name__)

LIVE_TENANT_TTL_SECONDS = 3600.0  # gauges of a tenant not heard from for this long are dropped
MAX_NAMES_PER_TENANT = 100
SUBSCRIBER_QUEUE = 100


@dataclass(eq=False)
class LiveSubscriber:
    names: frozenset[str] | None = None  # None: every metric
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(SUBSCRIBER_QUEUE))
    overflowed: bool = False


@dataclass
class LiveTenant:
    values: dict[str, float] = field(default_factory=dict)
    timestamp: str = ""
    seen: float = 0.0


def mean_by_name(samples: list[dict[str, Any]]) -> dict[str, float]:
    """One figure per metric of a batch: several pods' samples of a name are averaged."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for sample in samples:
        total = sums[sample["name"]]
        total[0] += float(sample["value"])
        total[1] += 1
    return {name: total / count for name, (total, count) in sums.items()}


# `cpu` and `cpu_usage` (and the other pairs) are one metric under two names.
ALIAS_PARTNER = {**METRIC_ALIASES, **{full: short for short, full in METRIC_ALIASES.items()}}


def with_aliases(values: dict[str, float]) -> dict[str, float | None]:
    """The seed's `cpu`, `memory`, `gpu` beside `cpu_usage`, ...: always present, None if unknown."""
    shaped: dict[str, float | None] = dict.fromkeys(("cpu", "memory", "gpu"))
    shaped.update(values)
    for short, full in METRIC_ALIASES.items():
        if full in values and short not in values:
            shaped[short] = values[full]
        elif short in values and full not in values:
            shaped[full] = values[short]
    return shaped


class MonitoringHub:
    """Every tenant's latest values and the WebSocket clients that follow them."""

    def __init__(self) -> None:
        self.latest: dict[tuple[Mode, str], LiveTenant] = {}
        self.subscribers: dict[tuple[Mode, str], set[LiveSubscriber]] = defaultdict(set)
        self.last_sweep = time.monotonic()

    def subscribe(self, mode: Mode, tenant_id: str) -> LiveSubscriber:
        subscriber = LiveSubscriber()
        self.subscribers[(mode, tenant_id)].add(subscriber)
        return subscriber

    def unsubscribe(self, mode: Mode, tenant_id: str, subscriber: LiveSubscriber) -> None:
        followers = self.subscribers.get((mode, tenant_id))
        if followers is not None:
            followers.discard(subscriber)
            if not followers:
                del self.subscribers[(mode, tenant_id)]

    def on_batch(self, mode: Mode, batch: dict[str, Any]) -> None:
        """A message may hold pushes of several moments (see push_groups): each moment is
        shown as a sample of its own, in order."""
        tenant_id, samples = batch["tenant_id"], batch.get("samples") or []
        moments: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for sample in samples:
            moments[str(sample["timestamp"])].append(sample)
        for moment in sorted(moments):
            self.on_moment(mode, tenant_id, batch, moment, moments[moment])

    def on_moment(
        self,
        mode: Mode,
        tenant_id: str,
        batch: dict[str, Any],
        moment: str,
        samples: list[dict[str, Any]],
    ) -> None:
        now = time.monotonic()
        live = self.latest.setdefault((mode, tenant_id), LiveTenant())
        values = mean_by_name(samples)
        for name, value in values.items():
            # The newest value of a pair is kept under the name it came with, and shown under
            # both: a push's `cpu` must not sit beside an older `cpu_usage` of the demo load.
            live.values.pop(ALIAS_PARTNER.get(name, ""), None)
            if name in live.values or len(live.values) < MAX_NAMES_PER_TENANT:
                live.values[name] = value
        live.timestamp, live.seen = moment, now
        if now - self.last_sweep > 60:
            self.forget_quiet(now)
        followers = self.subscribers.get((mode, tenant_id))
        if followers:
            self.fan_out(mode, tenant_id, batch, values, live, followers)

    def fan_out(
        self,
        mode: Mode,
        tenant_id: str,
        batch: dict[str, Any],
        values: dict[str, float],
        live: LiveTenant,
        followers: set[LiveSubscriber],
    ) -> None:
        shaped = with_aliases(live.values)
        head = {"type": "metrics", "tenant_id": tenant_id, "mode": mode.value,
                "timestamp": live.timestamp, "source": batch.get("source", "push"),
                "batch_id": batch.get("batch_id")}  # fmt: skip
        texts: dict[frozenset[str] | None, str] = {}
        for subscriber in list(followers):
            if subscriber.names not in texts:
                chosen = shaped if subscriber.names is None else {
                    k: v for k, v in shaped.items() if k in subscriber.names
                }  # fmt: skip
                batch_values = {k: v for k, v in values.items() if k in chosen}
                texts[subscriber.names] = json.dumps({**head, **chosen, "metrics": batch_values})
            try:
                subscriber.queue.put_nowait(texts[subscriber.names])
            except asyncio.QueueFull:
                # Not reading: dropped, so one slow client never holds up the others.
                subscriber.overflowed = True
                followers.discard(subscriber)
                log.warning(
                    "slow monitoring WebSocket client dropped", extra={"tenant_id": tenant_id}
                )

    def forget_quiet(self, now: float) -> None:
        self.last_sweep = now
        for key in [
            k for k, live in self.latest.items() if now - live.seen > LIVE_TENANT_TTL_SECONDS
        ]:
            del self.latest[key]

    def gauges(self) -> Iterator[Metric]:
        self.forget_quiet(time.monotonic())
        families: dict[str, GaugeMetricFamily] = {}
        for (mode, tenant_id), live in sorted(self.latest.items()):
            for name, value in sorted(live.values.items()):
                if name not in families:
                    families[name] = GaugeMetricFamily(
                        f"ecp_tenant_{name}",
                        f"Latest {name} a tenant reported (seen within the hour)",
                        labels=["tenant_id", "mode"],
                    )
                families[name].add_metric([tenant_id, mode.value], value)
        yield from families.values()


class TenantGauges(Collector):
    """`ecp_tenant_<metric>{tenant_id, mode}` on the gateway's `/metrics`."""

    def __init__(self) -> None:
        self.hubs: list[MonitoringHub] = []

    def describe(self) -> list[Metric]:
        return []  # names are known only once samples arrive

    def collect(self) -> Iterator[Metric]:
        for hub in self.hubs:
            yield from hub.gauges()


GAUGES = TenantGauges()
REGISTRY.register(GAUGES)


@dataclass
class SampleLink:
    """The gateway's own NATS connection for samples: it publishes the pushes and hears every
    other publisher's (other gateways, the monitor's demo generator and puller). It is made with
    `no_echo`, so the server does not send the gateway's own pushes back to it, which cost the
    gateway as much as the publish did: the gateway shows those itself once the broker has them."""

    hub: MonitoringHub
    connection: Client | None = None

    def published(self, mode: Mode, batch: dict[str, Any]) -> None:
        self.hub.on_batch(mode, batch)


LINKS: dict[int, SampleLink] = {}


def link_of(gateway: Gateway) -> SampleLink:
    return LINKS[id(gateway)]


def hub_of(gateway: Gateway) -> MonitoringHub:
    return LINKS[id(gateway)].hub


def follow_samples(gateway: Gateway) -> None:
    hub = MonitoringHub()
    link = LINKS[id(gateway)] = SampleLink(hub)
    GAUGES.hubs = [*GAUGES.hubs[-3:], hub]  # a process has one gateway; tests may build more

    async def on_sample_batch(msg: Msg) -> None:
        try:
            hub.on_batch(Mode(msg.subject.split(".")[1]), msgspec.json.decode(msg.data))
        except (ValueError, KeyError, TypeError) as error:
            log.warning("unreadable metrics message", extra={"error": repr(error)})

    async def connect() -> None:
        # A plain nats-py subscription (every replica gets every batch): no reply is sent,
        # which would race the JetStream ack of the publisher, and no per-message framework cost.
        link.connection = await nats.connect(
            gateway.settings.nats_url,
            name="ecp-gateway-samples",
            no_echo=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            # A push published while the server is gone fails at once: kept and sent on
            # reconnecting, it would be stored after its request was answered 503 (and sent
            # again, under a new batch id, by a client that retried).
            pending_size=0,
        )
        await link.connection.subscribe("ecp.*.metrics.>", cb=on_sample_batch)

    async def disconnect() -> None:
        if link.connection is not None:
            await link.connection.close()

    gateway.runtime.on_start.append(connect)
    gateway.runtime.on_stop.append(disconnect)


def wanted_names(message: str) -> frozenset[str] | None:
    """The metric names a `{action: "subscribe", metrics: [...]}` message asks for."""
    try:
        request = json.loads(message)
    except ValueError:
        return None
    if not isinstance(request, dict) or request.get("action") != "subscribe":
        return None
    metrics = request.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        return None
    return frozenset(n for m in metrics if isinstance(m, str) for n in metric_names_for(m))
