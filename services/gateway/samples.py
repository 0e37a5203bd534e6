"""Pushed metric samples: the request forms, the checks a sample must pass, the tenants known to
exist, and the publish of one message per tenant."""

from __future__ import annotations

import functools
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, NotRequired

import msgspec
import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from services.gateway.deps import Gateway, require_live_tenant
from services.gateway.errors import Problem
from services.gateway.live_metrics import link_of
from shared import subjects
from shared.bus import headers, publish_acked
from shared.contracts.metrics import METRIC_NAME_PATTERN, moments_of, names_valid
from shared.contracts.monitoring import METRIC_ALIASES
from shared.logging import correlation_id
from shared.modes import Mode
from shared.settings import Settings

log = logging.getLogger(__name__)

MAX_ABS_VALUE = 1e12
PERCENT_NAMES = ("cpu", "memory", "gpu", "disk")
PERCENT_SUFFIXES = ("_usage", "_percent", "_utilization", "_util")
NON_NEGATIVE_SUFFIXES = ("_count", "_total", "_time", "_seconds", "_ms", "_bytes", "_cores")
TENANT_CACHE_SECONDS = 10.0  # a tenant known to exist is not looked up again for this long
PUBLISH_TIMEOUT_SECONDS = 5.0
PUBLISH_TRIES = 2


MetricName = Annotated[str, Field(pattern=METRIC_NAME_PATTERN)]


class SeedPush(BaseModel):
    """The seed client's body: `{timestamp, metrics: {name: value}}`."""

    model_config = ConfigDict(extra="forbid")

    timestamp: datetime | None = None  # naive means UTC (the seed sends utcnow().isoformat())
    metrics: dict[MetricName, float] = Field(min_length=1, max_length=1000)
    labels: dict[str, str] = Field(default_factory=dict)


# The batch form is read into TypedDicts: at thousands of samples a request, building a model
# per sample costs nearly three times as much as building a dict.
@with_config(ConfigDict(extra="forbid"))
class PushedSample(TypedDict):
    tenant_id: NotRequired[str | None]
    name: MetricName
    value: float
    timestamp: NotRequired[datetime | None]
    labels: NotRequired[dict[str, str]]


@with_config(ConfigDict(extra="forbid"))
class BatchPush(TypedDict):
    """Samples of several tenants' pods; a sample without `tenant_id` takes the batch's."""

    tenant_id: NotRequired[str | None]
    samples: Annotated[list[PushedSample], Field(min_length=1, max_length=100_000)]


SEED_PUSH = TypeAdapter(SeedPush)
BATCH_PUSH = TypeAdapter(BatchPush)


# msgspec reads the batch form three times faster than pydantic, when names and timestamps,
# which repeat within a batch, are checked once each (by pydantic's own rules). Whatever this
# does not take is left to `BATCH_PUSH`, which gives the verdict and locates the errors.
class _PushedWire(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    name: str
    value: float
    tenant_id: str | None = None
    timestamp: str | None = None
    labels: dict[str, str] = {}


class _BatchWire(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    samples: Annotated[list[_PushedWire], msgspec.Meta(min_length=1, max_length=100_000)]
    tenant_id: str | None = None


_BATCH_WIRE = msgspec.json.Decoder(_BatchWire)


def read_batch_push(raw: bytes) -> BatchPush | None:
    """The batch form as `BATCH_PUSH` would read it, or None when only `BATCH_PUSH` can say."""
    try:
        wire = _BATCH_WIRE.decode(raw)
        moments = moments_of(s.timestamp for s in wire.samples if s.timestamp is not None)
    except (msgspec.ValidationError, msgspec.DecodeError, ValidationError):
        return None
    if not names_valid(s.name for s in wire.samples):
        return None
    samples: list[PushedSample] = [
        {"tenant_id": s.tenant_id, "name": s.name, "value": s.value,
         "timestamp": None if s.timestamp is None else moments[s.timestamp], "labels": s.labels}
        for s in wire.samples
    ]  # fmt: skip
    return {"tenant_id": wire.tenant_id, "samples": samples}


# ---- what a sample may be ------------------------------------------------------------------


def value_problem(name: str, value: float) -> str | None:
    """Why `value` cannot be a reading of metric `name`, or None."""
    if not math.isfinite(value):
        return "the value must be a finite number"
    if abs(value) > MAX_ABS_VALUE:
        return f"the value is beyond ±{MAX_ABS_VALUE:g}"
    kind = metric_kind(name)
    if kind == "percent":
        if not 0 <= value <= 100:
            return "a percentage must be between 0 and 100"
    elif kind == "non-negative" and value < 0:
        return "a count, a duration or a size cannot be negative"
    return None


@functools.lru_cache(maxsize=4096)
def metric_kind(name: str) -> str:
    """ "percent", "non-negative" or "any": what values a metric of this name may take."""
    if name in PERCENT_NAMES or name.endswith(PERCENT_SUFFIXES):
        return "percent"
    if name in METRIC_ALIASES or name.endswith(NON_NEGATIVE_SUFFIXES):
        return "non-negative"
    return "any"


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
        try:
            await require_live_tenant(gateway, mode, tenant_id)
        except Problem:
            self.seen.pop(key, None)
            raise
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
    batch = {"tenant_id": tenant_id, "batch_id": batch_id, "source": "push", "samples": samples}
    payload = pydantic_core.to_json(batch)
    sent_headers = headers(batch_id, correlation_id.get() or batch_id)
    link = link_of(gateway)
    if link.connection is None:
        raise Problem(503, "BROKER_UNAVAILABLE", "the gateway is starting; retry")
    subject, stream = subjects.metrics(mode, tenant_id), subjects.stream_name(mode, "metrics")
    for attempt in range(PUBLISH_TRIES):
        try:
            await publish_acked(
                link.connection,
                subject,
                payload,
                headers=sent_headers,
                stream=stream,
                ack_wait_seconds=PUBLISH_TIMEOUT_SECONDS,
            )
            link.published(mode, batch)
            return
        except Exception as error:  # noqa: BLE001 - any broker failure is "not accepted"
            failure = error
            log.warning(
                "metrics publish failed",
                extra={"tenant_id": tenant_id, "attempt": attempt + 1, "error": repr(error)},
            )
    raise Problem(503, "BROKER_UNAVAILABLE", "the samples could not be queued; retry") from failure


def sample_of(name: str, value: float, stamp: str, labels: dict[str, str]) -> dict[str, Any]:
    """A `Sample` of the metrics contract, as its JSON object (`stamp`: its ISO 8601 time)."""
    return {"name": name, "value": float(value), "timestamp": stamp, "labels": labels}
