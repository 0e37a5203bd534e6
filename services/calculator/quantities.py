"""Kubernetes quantity strings for quotas: CPU in millicores, memory in MiB, storage in GiB."""

from __future__ import annotations

MIB_PER_GIB = 1024
GIB_PER_TIB = 1024


def cpu_quantity(millicores: int) -> str:
    """`45000m`: millicores keep every quota exact and comparable."""
    if millicores < 0:
        raise ValueError("millicores must be >= 0")
    return f"{millicores}m"


def round_up_to_cores(millicores: int) -> int:
    return -(-millicores // 1000) * 1000


def round_up_to_gib(mib: int) -> int:
    return -(-mib // MIB_PER_GIB) * MIB_PER_GIB


def memory_quantity(mib: int) -> str:
    """The largest binary unit that states `mib` exactly: `1Ti`, `64Gi`, `512Mi`."""
    if mib < 0:
        raise ValueError("mib must be >= 0")
    if mib and mib % (MIB_PER_GIB * GIB_PER_TIB) == 0:
        return f"{mib // (MIB_PER_GIB * GIB_PER_TIB)}Ti"
    if mib and mib % MIB_PER_GIB == 0:
        return f"{mib // MIB_PER_GIB}Gi"
    return f"{mib}Mi"


def storage_quantity(gib: int) -> str:
    return memory_quantity(gib * MIB_PER_GIB)
