"""Builders for the Kubernetes objects the manifest service renders, as plain dicts."""

from __future__ import annotations

from typing import Any

GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def deployment(
    name: str,
    replicas: int | None = 1,
    cpu: str = "500m",
    memory: str = "1Gi",
    gpus: int = 0,
    selector: dict[str, str] | None = None,
    tolerate_gpu: bool = False,
) -> dict[str, Any]:
    requests: dict[str, Any] = {"cpu": cpu, "memory": memory}
    if gpus:
        requests["nvidia.com/gpu"] = gpus
    pod: dict[str, Any] = {
        "containers": [
            {"name": name, "image": f"ecp/{name}:1", "resources": {"requests": requests}}
        ]
    }
    if selector:
        pod["nodeSelector"] = selector
    if tolerate_gpu:
        pod["tolerations"] = [GPU_TOLERATION]
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": name}}, "template": {"spec": pod}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec}


def hpa(target: str, min_replicas: int, max_replicas: int = 10) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": target},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
        },
    }


def resource_quota(cpu: str = "1000", memory: str = "4Ti") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "tenant-quota"},
        "spec": {"hard": {"requests.cpu": cpu, "requests.memory": memory}},
    }
