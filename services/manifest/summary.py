"""The resource summary of a manifest: what its workloads request at rest, and a monthly cost."""

from __future__ import annotations

import math

from services.manifest.inventory import GPU_RESOURCE, Inventory
from services.manifest.report import ResourceSummary
from shared.quantities import format_cpu, format_memory

HOURS_PER_MONTH = 730
# AWS m5a.large, 2 vCPU / 8 GB at 67.32 USD a month (sizing.md): a general-purpose core with its
# memory, the figure used when the caller has none of its own.
DEFAULT_PRICE_PER_CORE_MONTH = 67.32 / 2


def resource_summary(
    inventory: Inventory,
    price_per_gpu_hour: float | None,
    price_per_core_month: float | None = DEFAULT_PRICE_PER_CORE_MONTH,
) -> ResourceSummary:
    """Sum of per-pod requests times replicas (the HPA minimum where one scales the workload)."""
    cores = memory_bytes = gpus = 0.0
    for workload in inventory.workloads:
        requests = workload.pod_requests()
        cores += requests.get("cpu", 0) * workload.replicas
        memory_bytes += requests.get("memory", 0) * workload.replicas
        gpus += requests.get(GPU_RESOURCE, 0) * workload.replicas
    total_gpu = math.ceil(gpus)
    cost = 0.0
    basis = []
    if price_per_gpu_hour is not None:
        cost += total_gpu * price_per_gpu_hour * HOURS_PER_MONTH
        basis.append(f"{total_gpu} GPU x ${price_per_gpu_hour:g}/h x {HOURS_PER_MONTH} h")
    else:
        basis.append("GPUs not priced (no GPU price given)")
    if price_per_core_month is not None:
        cost += cores * price_per_core_month
        basis.append(f"{cores:g} cores x ${price_per_core_month:g}/core-month")
    return ResourceSummary(
        total_cpu=format_cpu(math.ceil(cores * 1000)),
        total_memory=format_memory(math.ceil(memory_bytes / 2**20)),
        total_gpu=total_gpu,
        estimated_cost=f"${math.floor(round(cost, 2) + 0.5)}/month",  # half up, cents first
        cost_basis=" + ".join(basis) + "; requests at the minimum replica count",
    )
