"""Rendered tenant objects as the manifest service sends them, small enough to read."""

from __future__ import annotations

from typing import Any

GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def namespace_of(tenant_id: str) -> str:
    return f"ecp-ai-{tenant_id}"


def labels(tenant_id: str) -> dict[str, str]:
    return {"ecp.ai/tenant": tenant_id, "app.kubernetes.io/managed-by": "ecp-orchestrator"}


def meta(tenant_id: str, name: str, namespaced: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "labels": labels(tenant_id)}
    if namespaced:
        data["namespace"] = namespace_of(tenant_id)
    return data


def deployment(
    tenant_id: str,
    name: str,
    replicas: int = 1,
    cpu: str = "500m",
    memory: str = "1Gi",
    gpus: int = 0,
    image_tag: str = "1.0",
) -> dict[str, Any]:
    requests: dict[str, Any] = {"cpu": cpu, "memory": memory}
    if gpus:
        requests["nvidia.com/gpu"] = gpus
    pod: dict[str, Any] = {
        "containers": [
            {"name": name, "image": f"ecp/{name}:{image_tag}", "resources": {"requests": requests}}
        ]
    }
    if gpus:
        pod["tolerations"] = [GPU_TOLERATION]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(tenant_id, name),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod},
        },
    }


def service(tenant_id: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(tenant_id, name),
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 8080}]},
    }


def tenant_objects(
    tenant_id: str, workloads: dict[str, int] | None = None, gpus: int = 0, image_tag: str = "1.0"
) -> list[dict[str, Any]]:
    """Namespace, quota, config, then a Service and a Deployment per workload."""
    workloads = workloads or {"chatbot": 1, "stt": 1}
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": meta(tenant_id, namespace_of(tenant_id), False),
        },
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": meta(tenant_id, "tenant-quota"),
            "spec": {"hard": {"requests.cpu": "100", "requests.memory": "200Gi"}},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta(tenant_id, "tenant-settings"),
            "data": {"TENANT": tenant_id},
        },
    ]
    for name, replicas in workloads.items():
        objects.append(service(tenant_id, name))
        objects.append(deployment(tenant_id, name, replicas, gpus=gpus, image_tag=image_tag))
    return objects
