"""A believable set of metrics for a demo tenant, the same every time for the same tenant."""

from __future__ import annotations

import hashlib
from typing import Any

# Requests a concurrent unit (a call, a chat session) makes in a reporting interval.
REQUESTS_PER_UNIT = 12


def fractions_of(tenant_id: str, count: int) -> list[float]:
    """`count` numbers in [0, 1) fixed by the tenant id (a hash, not a random draw)."""
    digest = hashlib.sha256(tenant_id.encode()).digest()
    return [int.from_bytes(digest[i * 4 : i * 4 + 4], "big") / 2**32 for i in range(count)]


def sample_metrics_for(tenant: dict[str, Any]) -> dict[str, float]:
    """cpu/memory/gpu usage (%), request_count and response_time (ms) of a tenant as the API
    describes it (`tenant_id`, `service_requirements`, `gpu_limit`): busier tenants report more
    requests, a tenant without GPUs reports 0 % GPU."""
    cpu, memory, gpu, jitter, latency = fractions_of(str(tenant["tenant_id"]), 5)
    units = sum(int(v) for v in (tenant.get("service_requirements") or {}).values())
    has_gpu = (tenant.get("gpu_limit") or 0) > 0
    return {
        "cpu_usage": round(35 + 45 * cpu, 1),
        "memory_usage": round(40 + 40 * memory, 1),
        "gpu_usage": round(50 + 40 * gpu, 1) if has_gpu else 0.0,
        "request_count": float(max(1, units) * REQUESTS_PER_UNIT + int(jitter * 50)),
        "response_time": round(80 + 120 * latency, 1),
    }
