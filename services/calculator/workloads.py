"""The tenant's workloads: app and batch pods sized by CPU work, GPU pods by GPU counts."""

from __future__ import annotations

import math
from fractions import Fraction

from services.calculator.catalogue import Catalogue, CpuService, PresetFigures
from services.calculator.gpus import exact
from shared.contracts.sizing import (
    Autoscaling,
    ExplainStep,
    GpuPlacement,
    GpuRoleSizing,
    Resources,
    ServiceSizing,
)
from shared.contracts.tenants import ServiceRequirements

APP_ORDER = ("callbot", "chatbot", "advisor", "stt", "qa")


def stt_channels(requirements: ServiceRequirements, catalogue: Catalogue) -> Fraction:
    units = requirements.model_dump()
    per_unit = catalogue.workload_per_unit
    return sum((units[s] * exact(w.stt_channels) for s, w in per_unit.items()), Fraction(0))


def units_of(service: str, requirements: ServiceRequirements, catalogue: Catalogue) -> Fraction:
    if service == "stt":
        return stt_channels(requirements, catalogue)
    return Fraction(getattr(requirements, service))


def units_per_pod(spec: CpuService) -> int:
    """How many units one pod carries: as many as fit within its CPU and memory limits."""
    assert spec.work is not None
    by_cpu = Fraction(spec.limits.cpu_millicores) / exact(spec.work.millicores_per_unit)
    by_memory = Fraction(spec.limits.memory_mib) / exact(spec.work.memory_mib_per_unit)
    return max(1, math.floor(min(by_cpu, by_memory)))


def app_pod(spec: CpuService, per_pod_units: int) -> tuple[Resources, Resources]:
    """Every pod requests the work of a full pod (never less than the catalogue's request), so
    the scheduler reserves what the pod will really use; limits are the catalogue's, or the
    request where that is larger."""
    assert spec.work is not None
    cpu = max(
        spec.requests.cpu_millicores,
        math.ceil(per_pod_units * exact(spec.work.millicores_per_unit)),
    )
    mib = max(
        spec.requests.memory_mib, math.ceil(per_pod_units * exact(spec.work.memory_mib_per_unit))
    )
    requests = Resources(cpu_millicores=cpu, memory_mib=mib)
    limits = Resources(
        cpu_millicores=max(spec.limits.cpu_millicores, cpu),
        memory_mib=max(spec.limits.memory_mib, mib),
    )
    return requests, limits


def per_pod(spec: CpuService) -> tuple[Resources, Resources]:
    requests = Resources(
        cpu_millicores=spec.requests.cpu_millicores, memory_mib=spec.requests.memory_mib
    )
    limits = Resources(cpu_millicores=spec.limits.cpu_millicores, memory_mib=spec.limits.memory_mib)
    return requests, limits


def app_workload(
    service: str, units: Fraction, preset: PresetFigures, catalogue: Catalogue
) -> tuple[ServiceSizing, list[ExplainStep]]:
    spec = catalogue.services[service]  # type: ignore[index]
    assert spec.work is not None
    millicores = units * exact(spec.work.millicores_per_unit)
    mib = units * exact(spec.work.memory_mib_per_unit)
    capacity = units_per_pod(spec)
    replicas = max(math.ceil(units / capacity), preset.hpa.min_replicas)
    requests, limits = app_pod(spec, capacity)
    sizing = ServiceSizing(
        service=service,
        kind="app",
        port=spec.port,
        image=spec.image,
        replicas=replicas,
        autoscaling=Autoscaling(
            min_replicas=replicas,
            max_replicas=max(preset.hpa.max_replicas, replicas),
            cpu_target_percent=preset.hpa.cpu_target_percent,
        ),
        requests=requests,
        limits=limits,
        load={
            "units": float(units),
            "units_per_pod": capacity,
            "work_millicores": float(millicores),
            "work_mib": float(mib),
        },
    )
    steps = []
    if service == "stt":
        steps.append(
            ExplainStep(
                figure="stt.cores",
                formula="STT channels (callbot + 2 x advisor + stt) / channels per core",
                inputs={
                    "stt_channels": float(units),
                    "per_core": 1000 / float(exact(spec.work.millicores_per_unit)),
                },
                result=round(float(millicores) / 1000, 3),
            )
        )
    steps.append(
        ExplainStep(
            figure=f"{service}.units_per_pod",
            formula="floor(min(pod cpu limit / millicores per unit, pod memory limit / MiB per unit))",
            inputs={
                "pod_cpu_limit": spec.limits.cpu_millicores,
                "millicores_per_unit": float(exact(spec.work.millicores_per_unit)),
                "pod_memory_limit_mib": spec.limits.memory_mib,
                "memory_mib_per_unit": float(exact(spec.work.memory_mib_per_unit)),
            },
            result=capacity,
        )
    )
    steps.append(
        ExplainStep(
            figure=f"{service}.replicas",
            formula="max(ceil(units / units per pod), preset HPA min)",
            inputs={
                "units": float(units),
                "units_per_pod": capacity,
                "hpa_min": preset.hpa.min_replicas,
            },
            result=replicas,
        )
    )
    steps.append(
        ExplainStep(
            figure=f"{service}.pod_requests",
            formula="max(catalogue request, units per pod x work per unit) for cpu and memory",
            inputs={
                "units_per_pod": capacity,
                "catalogue_cpu_request": spec.requests.cpu_millicores,
                "catalogue_memory_request_mib": spec.requests.memory_mib,
            },
            result=f"{requests.cpu_millicores}m/{requests.memory_mib}Mi",
        )
    )
    return sizing, steps


def batch_workload(units: int, catalogue: Catalogue) -> tuple[ServiceSizing, ExplainStep]:
    """TA runs as a nightly job; its parallelism is the units scaled by the batch factor."""
    spec = catalogue.services["ta"]
    assert spec.batch_factor is not None
    replicas = max(1, math.ceil(units * exact(spec.batch_factor)))
    requests, limits = per_pod(spec)
    lines = float(units * exact(spec.lines_per_second or 0))
    sizing = ServiceSizing(
        service="ta",
        kind="batch",
        port=spec.port,
        image=spec.image,
        replicas=replicas,
        autoscaling=None,
        requests=requests,
        limits=limits,
        schedule=spec.schedule,
        load={"units": float(units), "lines_per_second": lines},
    )
    step = ExplainStep(
        figure="ta.replicas",
        formula="max(1, ceil(ta units x batch factor))",
        inputs={"ta": units, "batch_factor": spec.batch_factor},
        result=replicas,
    )
    return sizing, step


def cpu_workloads(
    requirements: ServiceRequirements, preset: PresetFigures, catalogue: Catalogue
) -> tuple[list[ServiceSizing], list[ExplainStep]]:
    services, steps = [], []
    for service in APP_ORDER:
        units = units_of(service, requirements, catalogue)
        if units > 0:
            sizing, explained = app_workload(service, units, preset, catalogue)
            services.append(sizing)
            steps.extend(explained)
    if requirements.ta > 0:
        sizing, step = batch_workload(requirements.ta, catalogue)
        services.append(sizing)
        steps.append(step)
    return services, steps


def gpu_workloads(roles: list[GpuRoleSizing], catalogue: Catalogue) -> list[ServiceSizing]:
    """One GPU per pod, one pod per GPU of the role; roles without load get no workload."""
    services = []
    for role in roles:
        if role.gpus == 0:
            continue
        profile = catalogue.gpu_profiles[role.gpu_type]
        spec = catalogue.gpu_services[role.role]
        services.append(
            ServiceSizing(
                service=role.role,
                kind="gpu",
                port=spec.port,
                image=spec.image,
                replicas=role.gpus,
                autoscaling=None,
                requests=Resources(
                    cpu_millicores=profile.pod_requests.cpu_millicores,
                    memory_mib=profile.pod_requests.memory_mib,
                    gpus=1,
                ),
                limits=Resources(
                    cpu_millicores=profile.pod_limits.cpu_millicores,
                    memory_mib=profile.pod_limits.memory_mib,
                    gpus=1,
                ),
                gpu=GpuPlacement(
                    gpu_type=role.gpu_type,
                    node_selector=dict(profile.node_selector),
                    tolerations=[dict(t) for t in profile.tolerations],
                ),
                load={role.load_unit: role.load},
            )
        )
    return services
