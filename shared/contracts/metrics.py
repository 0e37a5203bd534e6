"""Metric samples on `ecp.<mode>.metrics.<tenant_id>`: one message per pushed batch of a tenant."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

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
