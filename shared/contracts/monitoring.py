"""The `monitor.query` rpc, and the metric names the seed uses interchangeably (`cpu`, `cpu_usage`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Short family name -> the seed client's metric name. The seed's DB example writes `cpu`, its
# HTTP client writes `cpu_usage`, its WebSocket scenario reads `data['cpu']`: all one metric.
METRIC_ALIASES: dict[str, str] = {
    "cpu": "cpu_usage",
    "memory": "memory_usage",
    "gpu": "gpu_usage",
    "requests": "request_count",
    "response_time": "response_time",
}
FAMILY_OF: dict[str, str] = {full: short for short, full in METRIC_ALIASES.items()}


def metric_names_for(metric_type: str) -> list[str]:
    """Every stored name a `metric_type` filter matches: `cpu` -> [`cpu`, `cpu_usage`]."""
    family = FAMILY_OF.get(metric_type, metric_type)
    return sorted({metric_type, family, METRIC_ALIASES.get(family, metric_type)})


def family_of(name: str) -> str:
    """The short family of a metric name (`cpu_usage` -> `cpu`); other names are their own."""
    return FAMILY_OF.get(name, name)


class MonitoringQuery(BaseModel):
    """The body of the `monitor.query` rpc."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str
    metric_type: str | None = None  # None: every metric of the tenant
    hours: float = Field(default=1.0, gt=0)
    source: str | None = None  # push | pull | demo; None: every source
    max_points: int = Field(default=20_000, ge=1, le=100_000)  # raw points, per answer
