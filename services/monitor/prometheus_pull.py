"""Pull mode: the PromQL queries that give per-tenant figures, and reading their answers as samples.

Tenant pods carry the label `ecp.ai/tenant`. Prometheus sees it either as a `tenant_id` target
label (the seed's relabel rule for pod scrapes) or as `label_ecp_ai_tenant` on kube-state-metrics'
`kube_pod_labels`, which cAdvisor series are joined with. Every query answers one series per tenant
with a `tenant_id` label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TENANT_LABEL = "tenant_id"
POD_LABEL = "label_ecp_ai_tenant"


def _by_pod_label(series: str) -> str:
    """`series` of pods labelled `ecp.ai/tenant`, given a `tenant_id` through kube_pod_labels."""
    return (
        f"label_replace({series} * on (namespace, pod) group_left ({POD_LABEL}) "
        f'max by (namespace, pod, {POD_LABEL}) (kube_pod_labels{{{POD_LABEL}!=""}}), '
        f'"{TENANT_LABEL}", "$1", "{POD_LABEL}", "(.+)")'
    )


def _per_tenant(aggregate: str, series: str) -> str:
    direct = series.replace("SELECTOR", TENANT_LABEL + '!=""')
    joined = _by_pod_label(series.replace("SELECTOR", 'container!=""'))
    return f"{aggregate} by ({TENANT_LABEL}) ({direct} or {joined})"


# Metric name -> PromQL. CPU in cores (irate: the last two scrapes, so the figure is of the moment
# and a fresh series already answers), memory in bytes, GPU as the DCGM exporter's percent.
PULL_QUERIES: dict[str, str] = {
    "cpu_cores": _per_tenant("sum", "irate(container_cpu_usage_seconds_total{SELECTOR}[2m])"),
    "memory_bytes": _per_tenant("sum", "container_memory_working_set_bytes{SELECTOR}"),
    "gpu_usage": f'avg by ({TENANT_LABEL}) (DCGM_FI_DEV_GPU_UTIL{{{TENANT_LABEL}!=""}})',
    "pods_up": f'sum by ({TENANT_LABEL}) (up{{{TENANT_LABEL}!=""}})',
}


@dataclass(frozen=True)
class PulledValue:
    tenant_id: str
    name: str
    value: float
    timestamp: datetime


class PrometheusAnswerError(ValueError):
    pass


def pulled_values(name: str, answer: dict[str, Any]) -> list[PulledValue]:
    """The instant-vector answer of `/api/v1/query` as one value per tenant; NaN and series
    without a tenant are skipped (a tenant with no running pods reports nothing)."""
    if answer.get("status") != "success":
        raise PrometheusAnswerError(f"{name}: {answer.get('errorType')}: {answer.get('error')}")
    data = answer.get("data") or {}
    if data.get("resultType") != "vector":
        raise PrometheusAnswerError(f"{name}: expected a vector, got {data.get('resultType')}")
    values = []
    for series in data.get("result", []):
        tenant_id = series.get("metric", {}).get(TENANT_LABEL)
        stamp, text = series["value"]
        value = float(text)
        if not tenant_id or not math.isfinite(value):
            continue
        values.append(PulledValue(tenant_id, name, value, datetime.fromtimestamp(stamp, UTC)))
    return values
