"""Tenant-wide objects: the namespace, its quota and default limits, and the settings ConfigMap."""

from __future__ import annotations

import math
from typing import Any

from services.manifest.naming import (
    SETTINGS_CONFIGMAP,
    TenantManifestInput,
    credentials_secret_for,
    metadata,
    namespace_for,
    tenant_labels,
)
from services.manifest.workloads import is_deployed, is_scheduled_batch

Obj = dict[str, Any]
# For containers nobody sized (a debug pod, a sidecar an operator adds): small but bounded.
DEFAULT_REQUEST = {"cpu": "100m", "memory": "128Mi"}
DEFAULT_LIMIT = {"cpu": "500m", "memory": "512Mi"}


def namespace(tenant: TenantManifestInput) -> Obj:
    labels = tenant_labels(tenant, "namespace")
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = "restricted"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": metadata(namespace_for(tenant.tenant_id), labels),
    }


def pod_ceiling(tenant: TenantManifestInput) -> int:
    """Pods the namespace may hold: every workload at its maximum, one surge pod each, the jobs."""
    pods = 0
    for sizing in tenant.sizing.services:
        if not is_deployed(sizing):
            continue
        if is_scheduled_batch(sizing):
            pods += 1
            continue
        top = sizing.autoscaling.max_replicas if sizing.autoscaling else sizing.replicas
        pods += top + max(1, math.ceil(top * 0.25))
    return max(pods, 1)


def resource_quota(tenant: TenantManifestInput) -> Obj:
    quota = tenant.sizing.quota
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": metadata(
            "tenant-quota", tenant_labels(tenant, "quota"), namespace_for(tenant.tenant_id)
        ),
        "spec": {
            "hard": {
                "requests.cpu": quota.cpu_limit,
                "requests.memory": quota.memory_limit,
                "requests.nvidia.com/gpu": str(quota.gpu_limit),
                "requests.storage": quota.storage_limit,
                "pods": str(pod_ceiling(tenant)),
            }
        },
    }


def limit_range(tenant: TenantManifestInput) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": metadata(
            "container-defaults", tenant_labels(tenant, "limits"), namespace_for(tenant.tenant_id)
        ),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": dict(DEFAULT_LIMIT),
                    "defaultRequest": dict(DEFAULT_REQUEST),
                }
            ]
        },
    }


def settings_config_map(tenant: TenantManifestInput) -> Obj:
    sizing = tenant.sizing
    data = {
        "TENANT_ID": tenant.tenant_id,
        "TENANT_NAME": tenant.name,
        "TENANT_PRESET": tenant.preset,
        "SLA_AVAILABILITY_PERCENT": f"{sizing.sla.availability_percent:g}",
        "SLA_RESPONSE_TIME_MS": f"{sizing.sla.response_time_ms:g}",
        "GPU_TYPE": sizing.gpu_type,
        "CATALOGUE_VERSION": sizing.catalogue_version,
        # Where credentials live; the renderer never writes their values.
        "CREDENTIALS_SECRET": credentials_secret_for(tenant.tenant_id),
    }
    for sized in sizing.services:
        if is_deployed(sized) and not is_scheduled_batch(sized):
            data[f"{sized.service.upper()}_URL"] = f"http://{sized.service}:{sized.port}"
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(
            SETTINGS_CONFIGMAP, tenant_labels(tenant, "settings"), namespace_for(tenant.tenant_id)
        ),
        "data": data,
    }
