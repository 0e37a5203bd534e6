"""Prometheus Operator objects: a ServiceMonitor per Service and the tenant's alert rules."""

from __future__ import annotations

from typing import Any

from services.manifest.naming import (
    PORT_NAME,
    TenantManifestInput,
    metadata,
    namespace_for,
    selector_labels,
    tenant_labels,
    workload_labels,
)
from services.manifest.workloads import is_deployed, is_scheduled_batch

Obj = dict[str, Any]
MONITORING_API = "monitoring.coreos.com/v1"


def service_monitors(tenant: TenantManifestInput) -> list[Obj]:
    monitors = []
    for sizing in tenant.sizing.services:
        if not is_deployed(sizing) or is_scheduled_batch(sizing):
            continue  # a CronJob has no Service to scrape
        namespace = namespace_for(tenant.tenant_id)
        monitors.append(
            {
                "apiVersion": MONITORING_API,
                "kind": "ServiceMonitor",
                "metadata": metadata(sizing.service, workload_labels(tenant, sizing), namespace),
                "spec": {
                    "selector": {"matchLabels": selector_labels(tenant, sizing.service)},
                    "namespaceSelector": {"matchNames": [namespace]},
                    # The port named here is the Service's own port name: it always exists.
                    "endpoints": [{"port": PORT_NAME, "path": "/metrics", "interval": "30s"}],
                },
            }
        )
    return monitors


def _rule(tenant: TenantManifestInput, alert: str, expr: str, summary: str) -> Obj:
    return {
        "alert": alert,
        "expr": expr,
        "for": "5m",
        "labels": {"severity": "warning", "tenant": tenant.tenant_id},
        "annotations": {"summary": summary},
    }


def alert_rules(tenant: TenantManifestInput) -> list[Obj]:
    limits = tenant.sizing.alert_thresholds
    ns = f'namespace="{namespace_for(tenant.tenant_id)}"'
    cpu = (
        f'100 * sum by (pod) (rate(container_cpu_usage_seconds_total{{{ns},container!=""}}[5m]))'
        f' / sum by (pod) (kube_pod_container_resource_limits{{{ns},resource="cpu"}})'
        f" > {limits.cpu_percent:g}"
    )
    memory = (
        f'100 * sum by (pod) (container_memory_working_set_bytes{{{ns},container!=""}})'
        f' / sum by (pod) (kube_pod_container_resource_limits{{{ns},resource="memory"}})'
        f" > {limits.memory_percent:g}"
    )
    disk = (
        f"100 * kubelet_volume_stats_used_bytes{{{ns}}}"
        f" / kubelet_volume_stats_capacity_bytes{{{ns}}} > {limits.disk_percent:g}"
    )
    response = (
        "1000 * histogram_quantile(0.95, sum by (le, service) "
        f"(rate(http_request_duration_seconds_bucket{{{ns}}}[5m])))"
        f" > {limits.response_time_ms:g}"
    )
    rules = [
        _rule(tenant, "EcpTenantCpuHigh", cpu, f"Pod CPU above {limits.cpu_percent:g}% of limit"),
        _rule(
            tenant,
            "EcpTenantMemoryHigh",
            memory,
            f"Pod memory above {limits.memory_percent:g}% of limit",
        ),
        _rule(tenant, "EcpTenantDiskHigh", disk, f"Volume above {limits.disk_percent:g}% full"),
        _rule(
            tenant,
            "EcpTenantResponseSlow",
            response,
            f"p95 response time above {limits.response_time_ms:g} ms",
        ),
    ]
    if any(s.gpu is not None and is_deployed(s) for s in tenant.sizing.services):
        gpu = f"avg by (pod) (DCGM_FI_DEV_GPU_UTIL{{{ns}}}) > {limits.gpu_percent:g}"
        rules.insert(
            2,
            _rule(tenant, "EcpTenantGpuHigh", gpu, f"GPU above {limits.gpu_percent:g}% busy"),
        )
    return rules


def prometheus_rule(tenant: TenantManifestInput) -> Obj:
    return {
        "apiVersion": MONITORING_API,
        "kind": "PrometheusRule",
        "metadata": metadata(
            "tenant-alerts", tenant_labels(tenant, "monitoring"), namespace_for(tenant.tenant_id)
        ),
        "spec": {"groups": [{"name": f"ecp-ai-{tenant.tenant_id}", "rules": alert_rules(tenant)}]},
    }


def monitoring_objects(tenant: TenantManifestInput) -> list[Obj]:
    return [*service_monitors(tenant), prometheus_rule(tenant)]
