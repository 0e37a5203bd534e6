"""Demo metrics: a daily call-centre load curve and the samples a demo tenant of a given size shows."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Share of peak load at each local hour (0..23) of an AI contact centre: quiet nights, a
# morning ramp, a lunch dip, the afternoon peak, a long evening tail.
HOURLY_LOAD = (
    0.08, 0.06, 0.05, 0.05, 0.05, 0.07, 0.12, 0.25, 0.50, 0.80, 0.95, 0.90,
    0.65, 0.75, 0.92, 1.00, 0.90, 0.75, 0.50, 0.35, 0.25, 0.18, 0.12, 0.10,
)  # fmt: skip
KOREA_UTC_OFFSET_HOURS = 9.0
REQUESTS_PER_CORE_SECOND = 4.0  # at peak load
DEMO_METRICS = ("cpu_usage", "memory_usage", "gpu_usage", "request_count", "response_time")
# Share of a slot over which its tenants' batches are spread; the rest is slack, so a late
# slot still ends before the next one is due.
SPREAD_SHARE = 0.8


@dataclass(frozen=True)
class DemoTenant:
    """What the generator knows of a demo tenant: its size and whether anything runs."""

    tenant_id: str
    running: bool
    preset: str | None = None
    cpu_millicores: int = 0
    memory_mib: int = 0
    gpus: int = 0


def daily_load(moment: datetime, utc_offset_hours: float = KOREA_UTC_OFFSET_HOURS) -> float:
    """Share of peak load (0..1) at `moment`, interpolated between the hourly points."""
    local = moment.astimezone(UTC) + timedelta(hours=utc_offset_hours)
    hour = local.hour + local.minute / 60 + local.second / 3600
    index = int(hour) % 24
    fraction = hour - int(hour)
    start, end = HOURLY_LOAD[index], HOURLY_LOAD[(index + 1) % 24]
    return start + (end - start) * fraction


def slot_of(moment: datetime, interval_seconds: float) -> int:
    """The generator's time slot: the same slot on every replica, so its batch id dedupes."""
    return int(moment.timestamp() // interval_seconds)


def offset_in_slot(tenant_id: str, interval_seconds: float) -> float:
    """Seconds after its slot's start at which a tenant's batch is published: fixed per tenant
    and the same on every replica, spread over the slot as Prometheus spreads its scrapes, so a
    thousand tenants are not a thousand messages at once."""
    share = zlib.crc32(tenant_id.encode()) / 2**32
    return share * SPREAD_SHARE * interval_seconds


def _percent(value: float) -> float:
    return round(min(100.0, max(0.0, value)), 2)


def demo_metrics(
    tenant: DemoTenant, moment: datetime, slot: int, seed: int, interval_seconds: float
) -> dict[str, float]:
    """The metrics of `tenant` for one slot: zero when nothing runs, else the daily curve scaled
    by the tenant's size with a little noise, the same for the same (seed, tenant, slot)."""
    if not tenant.running:
        return dict.fromkeys(DEMO_METRICS, 0.0)
    rng = random.Random(f"{seed}:{tenant.tenant_id}:{slot}")
    load = min(1.0, max(0.0, daily_load(moment) * rng.uniform(0.9, 1.1)))
    cores = max(tenant.cpu_millicores, 500) / 1000
    return {
        "cpu_usage": _percent(8 + 80 * load + rng.gauss(0, 3)),
        "memory_usage": _percent(35 + 40 * load + rng.gauss(0, 2)),
        "gpu_usage": _percent(10 + 85 * load + rng.gauss(0, 4)) if tenant.gpus else 0.0,
        "request_count": float(round(cores * REQUESTS_PER_CORE_SECOND * load * interval_seconds)),
        "response_time": round(max(1.0, 80 + 150 * load**2 + rng.gauss(0, 5)), 1),
    }
