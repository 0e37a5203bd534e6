"""The calculator's model: one tenant's requirements in, its sized and explained workloads out."""

from __future__ import annotations

from services.calculator.catalogue import Catalogue, PresetFigures
from services.calculator.costing import cost_estimate, infrastructure_for
from services.calculator.errors import SizingError
from services.calculator.gpus import choose_gpu_type, explain_roles, role_loads
from services.calculator.presets import choose_preset
from services.calculator.workloads import cpu_workloads, gpu_workloads
from shared.contracts.sizing import (
    AlertThresholds,
    ExplainStep,
    Quota,
    Resources,
    ServiceSizing,
    SizingRequest,
    SizingResult,
    Sla,
    SlaTarget,
)
from shared.contracts.tenants import ServiceRequirements
from shared.quantities import (
    format_cpu,
    format_memory,
    format_storage,
    round_up_to_cores,
    round_up_to_gib,
)

__all__ = ["SizingError", "size"]


def size(request: SizingRequest, catalogue: Catalogue) -> SizingResult:
    requirements = request.service_requirements
    preset_name, warnings, preset_step = choose_preset(requirements, request.preset, catalogue)
    preset = catalogue.preset(preset_name)
    offered = gpu_types_offered(request, catalogue)
    loads = role_loads(requirements, catalogue)
    gpu_type, roles, reason = choose_gpu_type(request.gpu_type, loads, catalogue, offered)

    apps, app_steps = cpu_workloads(requirements, preset, catalogue)
    services = sorted(apps + gpu_workloads(roles, catalogue), key=lambda s: s.port)
    quota, quota_step = quota_for(services, requirements, preset, catalogue)
    platform, platform_steps = infrastructure_for(requirements, catalogue)
    gpus = sum(role.gpus for role in roles)
    cost, cost_steps = cost_estimate(
        services, gpus, gpu_type, platform, preset_name, request.cloud, catalogue
    )
    warnings += sla_warnings(request.sla_target, preset)
    alerts = catalogue.alert_thresholds
    return SizingResult(
        preset=preset_name,
        preset_requested=request.preset,
        warnings=warnings,
        services=services,
        gpus=roles,
        gpu_type=gpu_type,
        gpu_type_reason=reason,
        total_requests=resources_sum(services, at_max=False, limits=False),
        total_limits=resources_sum(services, at_max=True, limits=True),
        quota=quota,
        sla=Sla(
            availability_percent=preset.sla.availability_percent,
            response_time_ms=preset.sla.response_time_ms,
        ),
        alert_thresholds=AlertThresholds(**alerts.model_dump()),
        cost=cost,
        explain=[
            preset_step,
            *explain_roles(loads, roles),
            *app_steps,
            *platform_steps,
            quota_step,
            *cost_steps,
        ],
        catalogue_version=catalogue.version,
    )


def gpu_types_offered(request: SizingRequest, catalogue: Catalogue) -> list[str] | None:
    """The GPU types the requested cloud sells (None: no cloud, every type may be used)."""
    if request.cloud is None:
        return None
    if request.cloud not in catalogue.clouds:
        raise SizingError("UNKNOWN_CLOUD", f"cloud {request.cloud!r} is not in the catalogue")
    offered = list(catalogue.clouds[request.cloud].gpu_families)
    wanted = request.gpu_type
    if wanted != "auto" and wanted in catalogue.gpu_profiles and wanted not in offered:
        raise SizingError(
            "GPU_NOT_OFFERED",
            f"cloud {request.cloud!r} offers no {wanted} instances"
            f" (it offers {', '.join(offered)})",
        )
    return offered


def max_replicas(service: ServiceSizing) -> int:
    return service.autoscaling.max_replicas if service.autoscaling else service.replicas


def resources_sum(services: list[ServiceSizing], *, at_max: bool, limits: bool) -> Resources:
    cpu = memory = gpus = 0
    for service in services:
        pods = max_replicas(service) if at_max else service.replicas
        per_pod = service.limits if limits else service.requests
        cpu += per_pod.cpu_millicores * pods
        memory += per_pod.memory_mib * pods
        gpus += per_pod.gpus * pods
    return Resources(cpu_millicores=cpu, memory_mib=memory, gpus=gpus)


def storage_gib_for(requirements: ServiceRequirements, catalogue: Catalogue) -> int:
    storage = catalogue.storage
    users = sum(getattr(requirements, s) for s in storage.user_services)
    return max(storage.minimum_gib, storage.gib_per_user * users)


def quota_for(
    services: list[ServiceSizing],
    requirements: ServiceRequirements,
    preset: PresetFigures,
    catalogue: Catalogue,
) -> tuple[Quota, ExplainStep]:
    """Requests at max replicas so the HPA can scale; the preset's limits are the floor."""
    needed = resources_sum(services, at_max=True, limits=False)
    cpu = max(round_up_to_cores(needed.cpu_millicores), preset.limits.cpu_millicores)
    memory = max(round_up_to_gib(needed.memory_mib), round_up_to_gib(preset.limits.memory_mib))
    gpus = max(needed.gpus, preset.limits.gpus)
    storage = storage_gib_for(requirements, catalogue)
    quota = Quota(
        cpu_limit=format_cpu(cpu),
        memory_limit=format_memory(memory),
        gpu_limit=gpus,
        storage_limit=format_storage(storage),
        cpu_millicores=cpu,
        memory_mib=memory,
        storage_gib=storage,
    )
    step = ExplainStep(
        figure="quota",
        formula="max(sum(pod requests x max replicas) rounded up to cores/GiB, preset limits);"
        " storage max(minimum, GiB per user x users)",
        inputs={
            "needed_millicores": needed.cpu_millicores,
            "needed_mib": needed.memory_mib,
            "needed_gpus": needed.gpus,
            "preset": preset.name,
            "preset_millicores": preset.limits.cpu_millicores,
            "preset_mib": preset.limits.memory_mib,
            "preset_gpus": preset.limits.gpus,
        },
        result=f"{quota.cpu_limit} {quota.memory_limit} {gpus} GPU {quota.storage_limit}",
    )
    return quota, step


def sla_warnings(target: SlaTarget, preset: PresetFigures) -> list[str]:
    """A target stricter than the preset's SLA is flagged; sizing does not change for it."""
    if not target.availability:
        return []
    try:
        wanted = float(target.availability.strip().rstrip("%"))
    except ValueError:
        return [f"sla_target.availability {target.availability!r} is not a percentage; ignored"]
    if wanted > preset.sla.availability_percent:
        return [
            f"sla_target.availability {wanted}% is above preset {preset.name!r}'s "
            f"{preset.sla.availability_percent}%"
        ]
    return []
