"""Tenant metrics: push (the seed's form and a multi-tenant batch), query, and live streaming.

Pushed samples are checked here and published, one message per tenant per request, on the
tenant's metrics subject; the monitor stores them. Every gateway replica also sees every sample
(a core subscription on `ecp.*.metrics.>`) to stream it to WebSocket clients and to expose each
tenant's latest values on `/metrics`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from nats.aio.msg import Msg
from prometheus_client.core import REGISTRY, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.gateway import store
from services.gateway.auth import Role, authenticate, authorize, bearer_token
from services.gateway.deps import Gateway, GatewayDep, ModeDep, Viewer, request_mode
from services.gateway.errors import Problem
from services.gateway.routes.events_ws import POLICY_VIOLATION, TRY_AGAIN_LATER, accept_caller
from services.gateway.rpc import ask
from shared import subjects
from shared.bus import CORRELATION_HEADER, MSG_ID_HEADER
from shared.contracts.metrics import METRIC_NAME_PATTERN
from shared.contracts.monitoring import METRIC_ALIASES, MonitoringQuery, metric_names_for
from shared.logging import correlation_id
from shared.modes import Mode
from shared.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["monitoring"])

MAX_ABS_VALUE = 1e12
PERCENT_NAMES = ("cpu", "memory", "gpu", "disk")
PERCENT_SUFFIXES = ("_usage", "_percent", "_utilization", "_util")
NON_NEGATIVE_SUFFIXES = ("_count", "_total", "_time", "_seconds", "_ms", "_bytes", "_cores")
TENANT_CACHE_SECONDS = 10.0  # a tenant known to exist is not looked up again for this long
LIVE_TENANT_TTL_SECONDS = 3600.0  # gauges of a tenant not heard from for this long are dropped
MAX_NAMES_PER_TENANT = 100
SUBSCRIBER_QUEUE = 100
GONE = ""  # put in a subscriber's queue when its client disconnects
PUBLISH_TIMEOUT_SECONDS = 5.0
PUBLISH_TRIES = 2

MetricName = Annotated[str, Field(pattern=METRIC_NAME_PATTERN)]


class SeedPush(BaseModel):
    """The seed client's body: `{timestamp, metrics: {name: value}}`."""

    model_config = ConfigDict(extra="forbid")

    timestamp: datetime | None = None  # naive means UTC (the seed sends utcnow().isoformat())
    metrics: dict[MetricName, float] = Field(min_length=1, max_length=1000)
    labels: dict[str, str] = Field(default_factory=dict)


class PushedSample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: str | None = None
    name: MetricName
    value: float
    timestamp: datetime | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class BatchPush(BaseModel):
    """Samples of several tenants' pods; a sample without `tenant_id` takes the batch's."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str | None = None
    samples: list[PushedSample] = Field(min_length=1, max_length=100_000)


# ---- what a sample may be ------------------------------------------------------------------


def value_problem(name: str, value: float) -> str | None:
    """Why `value` cannot be a reading of metric `name`, or None."""
    if not math.isfinite(value):
        return "the value must be a finite number"
    if abs(value) > MAX_ABS_VALUE:
        return f"the value is beyond ±{MAX_ABS_VALUE:g}"
    if name in PERCENT_NAMES or name.endswith(PERCENT_SUFFIXES):
        if not 0 <= value <= 100:
            return "a percentage must be between 0 and 100"
    elif (name in METRIC_ALIASES or name.endswith(NON_NEGATIVE_SUFFIXES)) and value < 0:
        return "a count, a duration or a size cannot be negative"
    return None


def as_utc(moment: datetime | None, now: datetime) -> datetime:
    if moment is None:
        return now
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def time_problem(moment: datetime, now: datetime, settings: Settings) -> str | None:
    if moment > now + timedelta(seconds=settings.metrics_max_future_seconds):
        return f"the timestamp is more than {settings.metrics_max_future_seconds:g} s in the future"
    if moment < now - timedelta(days=settings.metrics_retention_days):
        return f"the timestamp is older than the {settings.metrics_retention_days}-day retention"
    return None


def shown(value: float) -> float | str:
    """A value as JSON can carry it: NaN and infinities as text."""
    return value if math.isfinite(value) else str(value)


def refuse(problems: list[dict[str, Any]]) -> Problem:
    first = problems[0]
    detail = f"{first['sample']} ({first['name']}={first['value']}): {first['reason']}"
    return Problem(422, "INVALID_SAMPLE", detail, errors=problems[:20])


# ---- pushing ---------------------------------------------------------------------------------


@dataclass
class TenantCache:
    """Tenants known to exist, so a busy pusher does not cost a database read per request."""

    seen: dict[tuple[Mode, str], float] = field(default_factory=dict)

    async def require(self, gateway: Gateway, mode: Mode, tenant_id: str) -> None:
        key = (mode, tenant_id)
        if time.monotonic() - self.seen.get(key, -math.inf) < TENANT_CACHE_SECONDS:
            return
        async with gateway.db.session(mode) as session:
            row = await store.live_tenant(session, tenant_id)
        if row is None:
            self.seen.pop(key, None)
            raise Problem(
                404, "TENANT_NOT_FOUND", f"tenant {tenant_id!r} does not exist in this mode"
            )
        if len(self.seen) > 100_000:
            self.seen.clear()
        self.seen[key] = time.monotonic()


TENANTS = TenantCache()


async def publish_samples(
    gateway: Gateway, mode: Mode, tenant_id: str, batch_id: str, samples: list[dict[str, Any]]
) -> None:
    """Publish straight through nats-py: the hot path, with a deadline that survives a burst.
    A retry after a lost ack is safe: the server drops the duplicate by its message id."""
    # The samples were checked above: the `MetricBatch` is written as JSON directly (pydantic
    # would check them again and cost more than everything else here).
    payload = json.dumps(
        {"tenant_id": tenant_id, "batch_id": batch_id, "source": "push", "samples": samples}
    ).encode()
    headers = {
        MSG_ID_HEADER: batch_id,
        CORRELATION_HEADER: correlation_id.get() or batch_id,
        "content-type": "application/json",
    }
    js = gateway.broker.connection.jetstream()
    subject, stream = subjects.metrics(mode, tenant_id), subjects.stream_name(mode, "metrics")
    for attempt in range(PUBLISH_TRIES):
        try:
            await js.publish(
                subject, payload, timeout=PUBLISH_TIMEOUT_SECONDS, stream=stream, headers=headers
            )
            return
        except Exception as error:  # noqa: BLE001 - any broker failure is "not accepted"
            failure = error
            log.warning(
                "metrics publish failed",
                extra={"tenant_id": tenant_id, "attempt": attempt + 1, "error": repr(error)},
            )
    raise Problem(503, "BROKER_UNAVAILABLE", "the samples could not be queued; retry") from failure


def sample_of(name: str, value: float, moment: datetime, labels: dict[str, str]) -> dict[str, Any]:
    """A `Sample` of the metrics contract, as its JSON object."""
    return {"name": name, "value": float(value), "timestamp": moment.isoformat(), "labels": labels}


async def pusher(
    request: Request, x_demo_mode: str | None, authorization: str | None
) -> tuple[Gateway, Mode]:
    """The mode and an operator's rights, checked inline: the deps module's synchronous
    dependencies each cost a worker-thread hop, too dear on the busiest route."""
    gateway: Gateway = request.app.state.gateway
    mode = request_mode(x_demo_mode)
    principal = await authenticate(
        gateway.db, bearer_token(authorization), mode, enabled=gateway.settings.auth_enabled
    )
    authorize(principal, mode, Role.operator)
    return gateway, mode


@router.post("/api/v1/tenants/{tenant_id}/monitoring", status_code=202)
async def push_metrics(
    tenant_id: str,
    body: SeedPush,
    request: Request,
    x_demo_mode: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """The seed's push: one timestamp, a map of metric name to value."""
    gateway, mode = await pusher(request, x_demo_mode, authorization)
    now = datetime.now(UTC)
    moment = as_utc(body.timestamp, now)
    problems = [
        {"sample": f"metrics.{name}", "name": name, "value": shown(value), "reason": reason}
        for name, value in body.metrics.items()
        if (reason := value_problem(name, value))
    ]
    if reason := time_problem(moment, now, gateway.settings):
        problems.insert(0, {"sample": "timestamp", "name": "timestamp", "value": str(moment),
                            "reason": reason})  # fmt: skip
    if problems:
        raise refuse(problems)
    await TENANTS.require(gateway, mode, tenant_id)
    batch_id = f"push:{uuid.uuid4().hex}:{tenant_id}"
    samples = [sample_of(n, v, moment, body.labels) for n, v in body.metrics.items()]
    await publish_samples(gateway, mode, tenant_id, batch_id, samples)
    return JSONResponse(
        status_code=202,
        content={
            "status": "accepted",
            "accepted": len(samples),
            "tenant_id": tenant_id,
            "batch_id": batch_id,
            "timestamp": moment.isoformat(),
        },
    )


async def batch_body(request: Request) -> BatchPush:
    """The body read straight from its bytes: twice as fast as parsing to Python first, which
    counts at tens of thousands of samples a request."""
    try:
        return BatchPush.model_validate_json(await request.body())
    except ValidationError as error:
        errors = error.errors(include_url=False, include_input=False)
        if any(e["type"] == "json_invalid" for e in errors):
            raise Problem(400, "INVALID_JSON", "the request body is not valid JSON") from error
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Problem(
            422,
            "VALIDATION_FAILED",
            f"{where}: {first['msg']}",
            errors=[
                {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors[:20]
            ],
        ) from error


@router.post(
    "/api/v1/monitoring/batch",
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BatchPush.model_json_schema()}},
        }
    },
)
async def push_batch(
    request: Request,
    x_demo_mode: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Samples of many pods of many tenants: one message per tenant."""
    gateway, mode = await pusher(request, x_demo_mode, authorization)
    body = await batch_body(request)
    now = datetime.now(UTC)
    by_tenant: dict[str, list[dict[str, Any]]] = defaultdict(list)
    problems: list[dict[str, Any]] = []
    settings = gateway.settings
    for index, pushed in enumerate(body.samples):
        tenant_id = pushed.tenant_id or body.tenant_id
        moment = as_utc(pushed.timestamp, now)
        reason = (
            ("the sample names no tenant_id" if tenant_id is None else None)
            or value_problem(pushed.name, pushed.value)
            or time_problem(moment, now, settings)
        )
        if reason:
            problems.append(
                {"sample": f"samples[{index}]", "name": pushed.name, "value": shown(pushed.value),
                 "tenant_id": tenant_id, "reason": reason}
            )  # fmt: skip
        elif tenant_id is not None:
            by_tenant[tenant_id].append(sample_of(pushed.name, pushed.value, moment, pushed.labels))
    if problems:
        raise refuse(problems)
    for tenant_id in by_tenant:
        await TENANTS.require(gateway, mode, tenant_id)
    request_id = uuid.uuid4().hex
    batches = {tenant_id: f"push:{request_id}:{tenant_id}" for tenant_id in by_tenant}
    await asyncio.gather(
        *(publish_samples(gateway, mode, t, batches[t], s) for t, s in by_tenant.items())
    )
    return JSONResponse(
        status_code=202,
        content={
            "status": "accepted",
            "accepted": len(body.samples),
            "batch_id": request_id,
            "tenants": [
                {"tenant_id": t, "batch_id": batches[t], "accepted": len(s)}
                for t, s in by_tenant.items()
            ],
        },
    )


# ---- querying --------------------------------------------------------------------------------


@router.get("/api/v1/tenants/{tenant_id}/monitoring")
async def query_metrics(
    tenant_id: str,
    gateway: GatewayDep,
    mode: ModeDep,
    _: Viewer,
    metric_type: Annotated[str | None, Query(pattern=METRIC_NAME_PATTERN)] = None,
    hours: Annotated[float, Query(gt=0, le=24 * 366)] = 1.0,
    source: Annotated[str | None, Query(pattern="^(push|pull|demo)$")] = None,
) -> JSONResponse:
    """Stored metrics: raw points up to an hour, time buckets (avg, min, max, p95) beyond."""
    async with gateway.db.session(mode) as session:
        if await store.live_tenant(session, tenant_id) is None:
            raise Problem(
                404, "TENANT_NOT_FOUND", f"tenant {tenant_id!r} does not exist in this mode"
            )
    query = MonitoringQuery(
        tenant_id=tenant_id, metric_type=metric_type, hours=hours, source=source
    )
    reply: dict[str, Any] = await ask(gateway, mode, "monitor", "query", query)
    if not reply.pop("ok", False):
        raise Problem(502, reply.get("code", "QUERY_FAILED"), "the monitor could not answer")
    return JSONResponse(reply)  # already plain JSON: skip the response-model encoder


# ---- live samples: WebSocket and Prometheus --------------------------------------------------


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
        tenant_id, samples = batch["tenant_id"], batch.get("samples") or []
        if not samples:
            return
        now = time.monotonic()
        live = self.latest.setdefault((mode, tenant_id), LiveTenant())
        values = mean_by_name(samples)
        for name, value in values.items():
            if name in live.values or len(live.values) < MAX_NAMES_PER_TENANT:
                live.values[name] = value
        live.timestamp, live.seen = max(str(s["timestamp"]) for s in samples), now
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
HUBS: dict[int, MonitoringHub] = {}


def hub_of(gateway: Gateway) -> MonitoringHub:
    return HUBS[id(gateway)]


def register(gateway: Gateway) -> None:
    hub = MonitoringHub()
    HUBS[id(gateway)] = hub
    GAUGES.hubs = [*GAUGES.hubs[-3:], hub]  # a process has one gateway; tests may build more

    async def on_sample_batch(msg: Msg) -> None:
        try:
            hub.on_batch(Mode(msg.subject.split(".")[1]), json.loads(msg.data))
        except (ValueError, KeyError, TypeError) as error:
            log.warning("unreadable metrics message", extra={"error": repr(error)})

    async def subscribe() -> None:
        # A plain nats-py subscription (every replica gets every batch): no reply is sent,
        # which would race the JetStream ack of the publisher, and no per-message framework cost.
        await gateway.broker.connection.subscribe("ecp.*.metrics.>", cb=on_sample_batch)

    gateway.runtime.on_start.append(subscribe)


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


@router.websocket("/ws/monitoring/{tenant_id}")
async def live_monitoring(websocket: WebSocket, tenant_id: str) -> None:
    mode = await accept_caller(websocket)
    if mode is None:
        return
    gateway: Gateway = websocket.app.state.gateway
    try:
        await TENANTS.require(gateway, mode, tenant_id)
    except Problem as problem:
        await websocket.close(code=POLICY_VIOLATION, reason=problem.detail[:120])
        return
    hub = hub_of(gateway)
    subscriber = hub.subscribe(mode, tenant_id)

    async def read_requests() -> None:
        try:
            while True:
                names = wanted_names(await websocket.receive_text())
                if names is not None:
                    subscriber.names = names
        finally:
            # Wake the sender; with a full queue it finds out on its next send instead.
            with contextlib.suppress(asyncio.QueueFull):
                subscriber.queue.put_nowait(GONE)

    reader = asyncio.create_task(read_requests())
    try:
        while (text := await subscriber.queue.get()) != GONE:
            await websocket.send_text(text)
            if subscriber.overflowed:
                await websocket.close(
                    code=TRY_AGAIN_LATER, reason="too slow: samples were not read"
                )
                break
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away mid-send
    finally:
        hub.unsubscribe(mode, tenant_id, subscriber)
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader
