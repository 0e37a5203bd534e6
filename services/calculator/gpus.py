"""GPUs per role (tts, nlp, aicm) for a tenant's load, and the choice of one GPU type for it."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction

from services.calculator.catalogue import Catalogue, GpuProfile, GpuRoleName
from services.calculator.errors import SizingError
from shared.contracts.sizing import ExplainStep, GpuRoleSizing
from shared.contracts.tenants import ServiceRequirements

ROLES: tuple[GpuRoleName, ...] = ("tts", "nlp", "aicm")
LOAD_UNITS = {"tts": "channels", "nlp": "queries/s at peak", "aicm": "searches/s at peak"}
CHANNEL_SERVICES = ("callbot", "advisor", "stt", "tts")


# The same few catalogue figures, some 80 times a tenant: reading their text was an eighth of
# the service's time. A Fraction is immutable, so one is shared.
@functools.lru_cache(maxsize=1024)
def exact(value: float) -> Fraction:
    """Exact decimal value of a catalogue figure, so `ceil` never trips on float noise."""
    return Fraction(str(value))


@dataclass(frozen=True)
class RoleLoads:
    channels: int  # callbot + advisor + stt + tts, which sets the peak factor
    peak_factor: Fraction
    tts_channels: Fraction
    nlp_queries_per_second: Fraction
    aicm_queries_per_second: Fraction

    def of(self, role: GpuRoleName) -> Fraction:
        return {
            "tts": self.tts_channels,
            "nlp": self.nlp_queries_per_second,
            "aicm": self.aicm_queries_per_second,
        }[role]


def peak_factor_for(channels: int, catalogue: Catalogue) -> Fraction:
    for step in catalogue.peak_factors:
        if step.up_to_channels is None or channels <= step.up_to_channels:
            return exact(step.factor)
    raise AssertionError("the catalogue guarantees an open last peak step")


def role_loads(requirements: ServiceRequirements, catalogue: Catalogue) -> RoleLoads:
    units = requirements.model_dump()
    channels = sum(units[name] for name in CHANNEL_SERVICES)
    peak = peak_factor_for(channels, catalogue)
    per_unit = catalogue.workload_per_unit

    def total(figure: str) -> Fraction:
        weighted = (units[s] * exact(getattr(w, figure)) for s, w in per_unit.items())
        return sum(weighted, Fraction(0))

    tts, nlp_day, aicm_day = (
        total(figure) for figure in ("tts_channels", "nlp_queries_per_day", "aicm_queries_per_day")
    )
    window = catalogue.busy_seconds_per_day
    return RoleLoads(channels, peak, tts, nlp_day / window * peak, aicm_day / window * peak)


def capacity_per_gpu(role: GpuRoleName, profile: GpuProfile, catalogue: Catalogue) -> Fraction:
    if role == "tts":
        cached = catalogue.tts_capacity == "with_cache"
        return exact(
            profile.tts_channels_with_cache if cached else profile.tts_channels_without_cache
        )
    if role == "nlp":
        return exact(profile.nlp_queries_per_second)
    return exact(profile.aicm_queries_per_second)


def gpu_count_for(load: Fraction, capacity: Fraction) -> int:
    """Zero load needs zero GPUs; any load needs enough whole GPUs to carry it."""
    return math.ceil(load / capacity)


def size_roles(loads: RoleLoads, gpu_type: str, catalogue: Catalogue) -> list[GpuRoleSizing]:
    profile = catalogue.gpu_profiles[gpu_type]
    sized = []
    for role in ROLES:
        capacity = capacity_per_gpu(role, profile, catalogue)
        sized.append(
            GpuRoleSizing(
                role=role,
                gpu_type=gpu_type,
                gpus=gpu_count_for(loads.of(role), capacity),
                load=float(loads.of(role)),
                load_unit=LOAD_UNITS[role],
                capacity_per_gpu=float(capacity),
            )
        )
    return sized


def gpu_servers_for(gpus: int, profile: GpuProfile) -> int:
    return math.ceil(gpus / profile.gpus_per_server)


def monthly_gpu_cost(gpus: int, profile: GpuProfile, catalogue: Catalogue) -> Fraction:
    """GPU-hours at the GPU price plus the host servers at the CPU core-month price."""
    gpu_hours = gpus * exact(catalogue.hours_per_month) * exact(profile.usd_per_gpu_hour)
    host_cores = gpu_servers_for(gpus, profile) * profile.host_cores
    return gpu_hours + host_cores * exact(catalogue.cpu_core_month_usd)


def choose_gpu_type(
    wanted: str, loads: RoleLoads, catalogue: Catalogue, offered: list[str] | None
) -> tuple[str, list[GpuRoleSizing], str]:
    """The named type, or for `auto` the cheapest month (ties: fewer GPUs, then catalogue order).

    `offered` limits `auto` to the GPU types a chosen cloud sells.
    """
    if wanted != "auto":
        if wanted not in catalogue.gpu_profiles:
            known = ", ".join(catalogue.gpu_profiles)
            raise SizingError("UNKNOWN_GPU_TYPE", f"gpu_type {wanted!r} is not one of: {known}")
        return wanted, size_roles(loads, wanted, catalogue), f"requested: {wanted}"
    candidates = [name for name in catalogue.gpu_profiles if offered is None or name in offered]
    if not candidates:
        raise SizingError("GPU_NOT_OFFERED", "the chosen cloud offers no catalogue GPU type")
    compared = []
    for order, name in enumerate(candidates):
        roles = size_roles(loads, name, catalogue)
        gpus = sum(r.gpus for r in roles)
        cost = monthly_gpu_cost(gpus, catalogue.gpu_profiles[name], catalogue)
        compared.append((cost, gpus, order, name, roles))
    compared.sort(key=lambda c: (c[0], c[1], c[2]))
    best = compared[0]
    costs = "; ".join(f"{c[3]} {c[1]} GPUs {float(c[0]):.2f} USD/month" for c in compared)
    reason = f"auto: lowest monthly cost of GPU-hours plus host servers: {best[3]} ({costs})"
    return best[3], best[4], reason


def explain_roles(loads: RoleLoads, roles: list[GpuRoleSizing]) -> list[ExplainStep]:
    steps = [
        ExplainStep(
            figure="peak_factor",
            formula="peak step for channels = callbot + advisor + stt + tts",
            inputs={"channels": loads.channels},
            result=float(loads.peak_factor),
        )
    ]
    formulas = {
        "tts": "ceil(sum(units x TTS channels per unit) / channels per GPU with cache)",
        "nlp": "ceil(sum(units x NLP queries/day) / busy s x peak factor / queries/s per GPU)",
        "aicm": "ceil(sum(units x AICM queries/day) / busy s x peak factor / searches/s per GPU)",
    }
    for role in roles:
        steps.append(
            ExplainStep(
                figure=f"gpus.{role.role}",
                formula=formulas[role.role],
                inputs={
                    "load": round(role.load, 4),
                    "load_unit": role.load_unit,
                    "capacity_per_gpu": role.capacity_per_gpu,
                    "gpu_type": role.gpu_type,
                    "peak_factor": float(loads.peak_factor),
                },
                result=role.gpus,
            )
        )
    return steps
