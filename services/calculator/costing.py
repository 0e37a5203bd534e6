"""Monthly cost: shared infrastructure, list-price GPU and CPU lines, and cloud instance advice."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from services.calculator.catalogue import Catalogue
from services.calculator.cloud_prices import CloudCatalogue, CloudName, Instance
from services.calculator.errors import SizingError
from services.calculator.gpus import exact, gpu_servers_for
from shared.contracts.sizing import (
    CloudEstimate,
    CostEstimate,
    ExplainStep,
    InstanceChoice,
    ServiceSizing,
)
from shared.contracts.tenants import Preset, ServiceRequirements

ZERO = Fraction(0)


@dataclass(frozen=True)
class Platform:
    """Shared infrastructure capacity for the tenant: platform-run, not in the tenant quota."""

    cores: Fraction
    memory_gib: Fraction


def money(value: Fraction | float) -> float:
    return round(float(value), 2)


def infrastructure_for(
    requirements: ServiceRequirements, catalogue: Catalogue
) -> tuple[Platform, list[ExplainStep]]:
    infra = catalogue.infrastructure
    units = requirements.model_dump()
    cores, memory, steps = Fraction(0), Fraction(0), []
    for name, component in infra.components.items():
        weighted = sum(
            (units[s] * exact(w) for s, w in component.cores_per_unit.items()), Fraction(0)
        )
        component_cores = exact(component.base_cores) + exact(infra.load_share) * weighted
        cores += component_cores
        memory += component_cores * exact(component.memory_gib_per_core)
        steps.append(
            ExplainStep(
                figure=f"infrastructure.{name}.cores",
                formula="base cores + load share x sum(units x cores per unit)",
                inputs={
                    "base_cores": component.base_cores,
                    "load_share": infra.load_share,
                    "weighted_load": float(weighted),
                },
                result=round(float(component_cores), 3),
            )
        )
    return Platform(cores, memory), steps


def pod_cores_at_min(services: list[ServiceSizing]) -> Fraction:
    """CPU pods only: GPU pods run on the GPU hosts, which are priced with the GPUs."""
    cpu_pods = [s for s in services if s.kind != "gpu"]
    return sum((Fraction(s.requests.cpu_millicores * s.replicas, 1000) for s in cpu_pods), ZERO)


def pod_memory_gib_at_min(services: list[ServiceSizing]) -> Fraction:
    return sum(
        (Fraction(s.requests.memory_mib * s.replicas, 1024) for s in services if s.kind != "gpu"),
        Fraction(0),
    )


def cost_estimate(
    services: list[ServiceSizing],
    gpus: int,
    gpu_type: str,
    platform: Platform,
    preset: Preset,
    cloud: CloudName | None,
    catalogue: Catalogue,
) -> tuple[CostEstimate, list[ExplainStep]]:
    profile = catalogue.gpu_profiles[gpu_type]
    hours = exact(catalogue.hours_per_month)
    gpu_hours = gpus * hours
    gpu_monthly = gpu_hours * exact(profile.usd_per_gpu_hour)
    host_cores = gpu_servers_for(gpus, profile) * profile.host_cores
    pod_cores = pod_cores_at_min(services)
    cores = pod_cores + platform.cores + host_cores
    cpu_monthly = cores * exact(catalogue.cpu_core_month_usd)
    steps = [
        ExplainStep(
            figure="cost.gpu_monthly",
            formula="GPUs x hours per month x USD per GPU-hour",
            inputs={
                "gpus": gpus,
                "hours_per_month": catalogue.hours_per_month,
                "usd_per_gpu_hour": profile.usd_per_gpu_hour,
                "gpu_type": gpu_type,
            },
            result=money(gpu_monthly),
        ),
        ExplainStep(
            figure="cost.cpu_monthly",
            formula="(CPU pod requests at min replicas + shared infrastructure + GPU host cores)"
            " x USD per core-month (m5a per vCPU)",
            inputs={
                "pod_cores": float(pod_cores),
                "infrastructure_cores": float(platform.cores),
                "gpu_host_cores": host_cores,
                "usd_per_core_month": catalogue.cpu_core_month_usd,
            },
            result=money(cpu_monthly),
        ),
    ]
    estimate = None
    if cloud is not None:
        estimate, step = cloud_estimate(
            services, gpus, gpu_type, platform, preset, cloud, catalogue
        )
        steps.append(step)
    cost = CostEstimate(
        hours_per_month=catalogue.hours_per_month,
        gpu_hours=float(gpu_hours),
        gpu_monthly=money(gpu_monthly),
        cpu_cores=round(float(cores), 3),
        cpu_monthly=money(cpu_monthly),
        total_monthly=money(gpu_monthly + cpu_monthly),
        cloud=estimate,
    )
    return cost, steps


def cheapest(options: list[tuple[int, Instance]]) -> tuple[int, Instance]:
    """Lowest monthly price; ties go to fewer instances, then catalogue order."""
    ranked = sorted(
        enumerate(options), key=lambda o: (o[1][0] * exact(o[1][1].monthly_price), o[1][0], o[0])
    )
    return ranked[0][1]


def gpu_instances(
    gpus: int, pod_cpu: int, pod_mib: int, family: str, offer: CloudCatalogue, cloud: str
) -> tuple[int, Instance]:
    fits = [
        i
        for i in offer.instances
        if i.family == family
        and i.gpus > 0
        and i.vcpus * 1000 >= pod_cpu * i.gpus
        and i.memory_gib * 1024 >= pod_mib * i.gpus
    ]
    if not fits:
        raise SizingError("NO_INSTANCE_FITS", f"{cloud}: no {family} instance fits a GPU pod")
    return cheapest([(math.ceil(gpus / i.gpus), i) for i in fits])


def cpu_instances(
    cores: Fraction, memory_gib: Fraction, offer: CloudCatalogue
) -> tuple[int, Instance]:
    family = [i for i in offer.instances if i.family == offer.cpu_family]
    return cheapest(
        [(max(math.ceil(cores / i.vcpus), math.ceil(memory_gib / i.memory_gib)), i) for i in family]
    )


def choice(count: int, instance: Instance, purpose: str) -> InstanceChoice:
    return InstanceChoice(
        name=instance.name,
        count=count,
        vcpus=instance.vcpus,
        memory_gib=instance.memory_gib,
        gpus=instance.gpus,
        gpu_model=instance.gpu_model,
        monthly_price=money(count * exact(instance.monthly_price)),
        purpose=purpose,
    )


def cloud_estimate(
    services: list[ServiceSizing],
    gpus: int,
    gpu_type: str,
    platform: Platform,
    preset: Preset,
    cloud: CloudName,
    catalogue: Catalogue,
) -> tuple[CloudEstimate, ExplainStep]:
    offer = catalogue.clouds[cloud]
    family = offer.gpu_families.get(gpu_type)
    if family is None:
        raise SizingError("GPU_NOT_OFFERED", f"cloud {cloud!r} offers no {gpu_type} instances")
    chosen = []
    if gpus > 0:
        profile = catalogue.gpu_profiles[gpu_type]
        count, instance = gpu_instances(
            gpus,
            profile.pod_requests.cpu_millicores,
            profile.pod_requests.memory_mib,
            family,
            offer,
            cloud,
        )
        chosen.append(choice(count, instance, f"{gpus} x {gpu_type} GPU pods"))
    cores = pod_cores_at_min(services) + platform.cores
    memory = pod_memory_gib_at_min(services) + platform.memory_gib
    count, instance = cpu_instances(cores, memory, offer)
    chosen.append(choice(count, instance, "CPU pods and shared infrastructure"))
    instances_total = sum((exact(c.monthly_price) for c in chosen), Fraction(0))
    tier = next(t for t in offer.management_fee_tiers if preset in t.presets)
    rate = exact(catalogue.krw_per_usd)
    minimum = exact(tier.minimum_krw) / (rate if offer.currency == "USD" else 1)
    fee = max(instances_total * exact(tier.percent) / 100, minimum)
    total = instances_total + fee
    total_usd = total if offer.currency == "USD" else total / rate
    estimate = CloudEstimate(
        cloud=cloud,
        currency=offer.currency,
        instances=chosen,
        instances_total=money(instances_total),
        management_fee=money(fee),
        total=money(total),
        total_usd=money(total_usd),
    )
    step = ExplainStep(
        figure=f"cost.cloud.{cloud}",
        formula="cheapest instances covering the GPUs and the CPU cores/memory"
        " + max(fee percent x instances, fee minimum)",
        inputs={
            "gpus": gpus,
            "cpu_cores": round(float(cores), 3),
            "memory_gib": round(float(memory), 3),
            "fee_percent": tier.percent,
            "fee_minimum_krw": tier.minimum_krw,
            "krw_per_usd": catalogue.krw_per_usd,
        },
        result=money(total),
    )
    return estimate, step
