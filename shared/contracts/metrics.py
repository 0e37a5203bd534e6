"""Metric samples on `ecp.<mode>.metrics.<tenant_id>`: one message per pushed batch of a tenant."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, NotRequired

import msgspec
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from shared.contracts.base import Contract

# The seed's push body names metrics freely (`cpu_usage`, `gpu_usage`, `request_count`, ...).
METRIC_NAME_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"
LABEL_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"


class Sample(Contract):
    name: str = Field(pattern=METRIC_NAME_PATTERN)
    value: float
    timestamp: datetime
    labels: dict[str, str] = Field(default_factory=dict)  # pod, service, ...


class MetricBatch(Contract):
    """Samples of one tenant, as one JetStream message. `batch_id` is the dedupe id."""

    tenant_id: str
    batch_id: str
    samples: list[Sample]
    source: str = "push"  # push | pull | demo


# The same contract as plain dicts, for the consumers that read tens of thousands of samples a
# second: validating into TypedDicts costs about a third of building a model per sample.
# tests/unit/shared/test_metric_records.py holds both forms to the same verdicts.
@with_config(ConfigDict(extra="forbid"))
class SampleRecord(TypedDict):
    schema_version: NotRequired[int]
    name: Annotated[str, Field(pattern=METRIC_NAME_PATTERN)]
    value: float
    timestamp: datetime
    labels: NotRequired[dict[str, str]]


@with_config(ConfigDict(extra="forbid"))
class MetricBatchRecord(TypedDict):
    schema_version: NotRequired[int]
    tenant_id: str
    batch_id: str
    samples: list[SampleRecord]
    source: NotRequired[str]


METRIC_BATCH_RECORD = TypeAdapter(MetricBatchRecord)


# ---- reading a batch fast -------------------------------------------------------------------
# msgspec reads the message into structs three times faster than pydantic, when it is not made to
# run a regular expression or build a datetime per sample: names and timestamps repeat within a
# batch, so each distinct one is checked once, by pydantic itself. Anything msgspec refuses is
# read again by pydantic, which gives the verdict (and accepts the looser forms it accepts).
class _WireSample(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    name: str
    value: float
    timestamp: str
    labels: dict[str, str] = {}
    schema_version: int = 1


class _WireBatch(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    tenant_id: str
    batch_id: str
    samples: list[_WireSample]
    source: str = "push"
    schema_version: int = 1


_WIRE_BATCH = msgspec.json.Decoder(_WireBatch)
METRIC_NAME = re.compile(METRIC_NAME_PATTERN)
_MOMENT = TypeAdapter(datetime)


def names_valid(names: Iterable[str]) -> bool:
    """Whether every distinct name is a metric name (`fullmatch`: `$` would let "cpu\n" by)."""
    return all(METRIC_NAME.fullmatch(name) for name in set(names))


def moments_of(stamps: Iterable[str]) -> dict[str, datetime]:
    """Each distinct timestamp as pydantic reads it; raises pydantic's `ValidationError`."""
    return {stamp: _MOMENT.validate_strings(stamp) for stamp in set(stamps)}


def read_metric_batch(raw: bytes) -> MetricBatchRecord:
    """A metrics message as `MetricBatchRecord`, with the verdict `METRIC_BATCH_RECORD` gives
    (raises pydantic's `ValidationError`)."""
    return _record(_decoded(raw), raw)


def _decoded(raw: bytes) -> _WireBatch | None:
    try:
        return _WIRE_BATCH.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


def _fast_moments(wire: _WireBatch | None) -> dict[str, datetime] | None:
    """The message's timestamps read, when msgspec's reading of it can stand; None leaves the
    message to pydantic (which gives the verdict)."""
    if wire is None or not names_valid(s.name for s in wire.samples):
        return None
    try:
        return moments_of(s.timestamp for s in wire.samples)
    except ValidationError:
        return None


def _record(wire: _WireBatch | None, raw: bytes) -> MetricBatchRecord:
    moments = _fast_moments(wire)
    if wire is None or moments is None:
        return METRIC_BATCH_RECORD.validate_json(raw)
    samples: list[SampleRecord] = [
        {"name": s.name, "value": s.value, "timestamp": moments[s.timestamp], "labels": s.labels}
        for s in wire.samples
    ]
    return {
        "tenant_id": wire.tenant_id,
        "batch_id": wire.batch_id,
        "samples": samples,
        "source": wire.source,
    }


# A sample as the alerts evaluator reads it: (name, seconds since the epoch, value).
MetricPoint = tuple[str, float, float]


def read_metric_points(raw: bytes) -> tuple[str, list[MetricPoint]]:
    """A metrics message's tenant and samples as points, with the verdict `read_metric_batch`
    gives (raises pydantic's `ValidationError`), without a record per sample or a time
    conversion per sample: a message's samples share a few timestamps."""
    wire = _decoded(raw)
    moments = _fast_moments(wire)
    if wire is None or moments is None:
        return points_of(METRIC_BATCH_RECORD.validate_json(raw))
    at = {stamp: moment.timestamp() for stamp, moment in moments.items()}
    return wire.tenant_id, [(s.name, at[s.timestamp], s.value) for s in wire.samples]


def points_of(batch: MetricBatchRecord) -> tuple[str, list[MetricPoint]]:
    samples = batch["samples"]
    return batch["tenant_id"], [
        (s["name"], s["timestamp"].timestamp(), s["value"]) for s in samples
    ]


# ---- storing a batch as it came -------------------------------------------------------------
# The monitor lets Postgres read a message's samples from its JSON (jsonb_to_recordset), which
# costs the monitor a check instead of unpacking every sample. Only messages Postgres reads just
# as pydantic does go that way: timestamps in RFC 3339 with a zone, finite values.
_ZONED_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})", re.ASCII
)


@dataclass(frozen=True)
class CheckedBatch:
    """A metrics message the contract accepts, kept as its JSON for Postgres to read."""

    tenant_id: str
    batch_id: str
    source: str
    sample_count: int
    moments: frozenset[datetime]  # the distinct timestamps of its samples
    raw: bytes


def checked_metric_batch(raw: bytes) -> CheckedBatch | None:
    """The message, checked, when Postgres can store it from its JSON; None when it is a looser
    form or invalid (`read_metric_batch` reads it or gives the verdict)."""
    wire = _decoded(raw)
    return None if wire is None else _checked(wire, raw)


def stored_metric_batch(raw: bytes) -> CheckedBatch | MetricBatchRecord:
    """The message as the monitor stores it, read once: checked for Postgres to read when it
    can, else read in Python (raises pydantic's `ValidationError`)."""
    wire = _decoded(raw)
    checked = None if wire is None else _checked(wire, raw)
    return checked or _record(wire, raw)


def _checked(wire: _WireBatch, raw: bytes) -> CheckedBatch | None:
    stamps = {s.timestamp for s in wire.samples}
    if not all(_ZONED_MOMENT.fullmatch(t) for t in stamps):
        return None
    if not names_valid(s.name for s in wire.samples):
        return None
    if not all(math.isfinite(s.value) for s in wire.samples):
        return None
    try:
        moments = frozenset(moments_of(stamps).values())
    except ValidationError:
        return None
    return CheckedBatch(wire.tenant_id, wire.batch_id, wire.source, len(wire.samples), moments, raw)
