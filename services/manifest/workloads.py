"""Objects rendered per sized service: Deployment or CronJob, Service, HPA, PodDisruptionBudget."""

from __future__ import annotations

from typing import Any

from services.manifest.naming import (
    PORT_NAME,
    RUN_AS_USER,
    SETTINGS_CONFIGMAP,
    TenantManifestInput,
    credentials_secret_for,
    metadata,
    namespace_for,
    selector_labels,
    workload_labels,
)
from shared.contracts.sizing import Resources, ServiceSizing
from shared.quantities import format_cpu, format_memory

GPU_RESOURCE = "nvidia.com/gpu"
Obj = dict[str, Any]


def is_scheduled_batch(sizing: ServiceSizing) -> bool:
    return sizing.kind == "batch" and bool(sizing.schedule)


def is_deployed(sizing: ServiceSizing) -> bool:
    """A service with nothing to run is not rendered at all (the old system deployed it anyway)."""
    return sizing.replicas > 0 or sizing.autoscaling is not None


def min_replicas(sizing: ServiceSizing) -> int:
    return sizing.autoscaling.min_replicas if sizing.autoscaling else sizing.replicas


def gpus_per_pod(sizing: ServiceSizing) -> int:
    # Kubernetes requires extended-resource requests to equal limits: one figure for both.
    return max(sizing.requests.gpus, sizing.limits.gpus)


def _resource_list(resources: Resources, gpus: int) -> dict[str, Any]:
    listed: dict[str, Any] = {
        "cpu": format_cpu(resources.cpu_millicores),
        "memory": format_memory(resources.memory_mib),
    }
    if gpus:
        listed[GPU_RESOURCE] = gpus
    return listed


def _probes(sizing: ServiceSizing) -> Obj:
    # GPU back ends load models before they answer: give the startup probe more room.
    startup_failures = 60 if sizing.kind == "gpu" else 30
    return {
        "startupProbe": {
            "httpGet": {"path": "/healthz", "port": PORT_NAME},
            "periodSeconds": 5,
            "failureThreshold": startup_failures,
        },
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": PORT_NAME},
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": PORT_NAME},
            "periodSeconds": 5,
            "failureThreshold": 3,
        },
    }


def container(tenant: TenantManifestInput, sizing: ServiceSizing, *, probes: bool) -> Obj:
    gpus = gpus_per_pod(sizing)
    spec: Obj = {
        "name": sizing.service,
        "image": sizing.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": PORT_NAME, "containerPort": sizing.port, "protocol": "TCP"}],
        "env": [
            {"name": "ECP_SERVICE", "value": sizing.service},
            {"name": "PORT", "value": str(sizing.port)},
        ],
        # Credentials come only from the operator-owned Secret, never from plain values here.
        "envFrom": [
            {"configMapRef": {"name": SETTINGS_CONFIGMAP}},
            {"secretRef": {"name": credentials_secret_for(tenant.tenant_id), "optional": True}},
        ],
        "resources": {
            "requests": _resource_list(sizing.requests, gpus),
            "limits": _resource_list(sizing.limits, gpus),
        },
    }
    if probes:
        spec.update(_probes(sizing))
    spec["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    # A pod-private emptyDir: the root filesystem is read-only.
    spec["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108
    return spec


def pod_spec(tenant: TenantManifestInput, sizing: ServiceSizing, *, probes: bool) -> Obj:
    spec: Obj = {
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "runAsGroup": RUN_AS_USER,
            "fsGroup": RUN_AS_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container(tenant, sizing, probes=probes)],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
    }
    if sizing.gpu is not None:
        spec["nodeSelector"] = dict(sorted(sizing.gpu.node_selector.items()))
        spec["tolerations"] = [dict(toleration) for toleration in sizing.gpu.tolerations]
    return spec


def pod_template(tenant: TenantManifestInput, sizing: ServiceSizing, config_hash: str) -> Obj:
    labels = workload_labels(tenant, sizing)
    if sizing.gpu is not None:
        labels["ecp.ai/gpu-type"] = sizing.gpu.gpu_type
    probes = not is_scheduled_batch(sizing)
    return {
        # A settings change must roll the pods, which read the ConfigMap only at start.
        "metadata": {"labels": labels, "annotations": {"ecp.ai/config-hash": config_hash}},
        "spec": pod_spec(tenant, sizing, probes=probes),
    }


def deployment(tenant: TenantManifestInput, sizing: ServiceSizing, config_hash: str) -> Obj:
    namespace = namespace_for(tenant.tenant_id)
    spec: Obj = {}
    if sizing.autoscaling is None:
        spec["replicas"] = sizing.replicas  # with an HPA, the HPA alone owns the count
    spec["selector"] = {"matchLabels": selector_labels(tenant, sizing.service)}
    # A GPU surge pod would need a GPU the quota does not hold: replace in place instead.
    surge, unavailable = (0, 1) if sizing.kind == "gpu" else (1, 0)
    spec["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
    }
    spec["template"] = pod_template(tenant, sizing, config_hash)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(sizing.service, workload_labels(tenant, sizing), namespace),
        "spec": spec,
    }


def cron_job(tenant: TenantManifestInput, sizing: ServiceSizing, config_hash: str) -> Obj:
    template = pod_template(tenant, sizing, config_hash)
    template["spec"]["restartPolicy"] = "OnFailure"
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata(
            sizing.service, workload_labels(tenant, sizing), namespace_for(tenant.tenant_id)
        ),
        "spec": {
            "schedule": sizing.schedule,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": workload_labels(tenant, sizing)},
                "spec": {"backoffLimit": 2, "parallelism": 1, "template": template},
            },
        },
    }


def service(tenant: TenantManifestInput, sizing: ServiceSizing) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(
            sizing.service, workload_labels(tenant, sizing), namespace_for(tenant.tenant_id)
        ),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(tenant, sizing.service),
            "ports": [
                {
                    "name": PORT_NAME,
                    "port": sizing.port,
                    "targetPort": PORT_NAME,
                    "protocol": "TCP",
                }
            ],
        },
    }


def horizontal_pod_autoscaler(tenant: TenantManifestInput, sizing: ServiceSizing) -> Obj:
    assert sizing.autoscaling is not None
    scaling = sizing.autoscaling
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(
            sizing.service, workload_labels(tenant, sizing), namespace_for(tenant.tenant_id)
        ),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": sizing.service,
            },
            "minReplicas": scaling.min_replicas,
            "maxReplicas": max(scaling.max_replicas, scaling.min_replicas),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": scaling.cpu_target_percent,
                        },
                    },
                }
            ],
        },
    }


def pod_disruption_budget(tenant: TenantManifestInput, sizing: ServiceSizing) -> Obj:
    # With a single pod, minAvailable 1 would block every node drain; allow one down instead.
    budget: Obj = {"minAvailable": 1} if min_replicas(sizing) >= 2 else {"maxUnavailable": 1}
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(
            sizing.service, workload_labels(tenant, sizing), namespace_for(tenant.tenant_id)
        ),
        "spec": {**budget, "selector": {"matchLabels": selector_labels(tenant, sizing.service)}},
    }


def objects_for_service(
    tenant: TenantManifestInput, sizing: ServiceSizing, config_hash: str
) -> list[Obj]:
    if is_scheduled_batch(sizing):
        return [cron_job(tenant, sizing, config_hash)]
    objects = [deployment(tenant, sizing, config_hash), service(tenant, sizing)]
    if sizing.autoscaling is not None:
        objects.append(horizontal_pod_autoscaler(tenant, sizing))
    objects.append(pod_disruption_budget(tenant, sizing))
    return objects
