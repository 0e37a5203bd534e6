"""Metric samples on `ecp.<mode>.metrics.<tenant_id>`: one message per pushed batch of a tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, NotRequired

from pydantic import ConfigDict, Field, TypeAdapter, with_config
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
