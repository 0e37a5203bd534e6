"""Kubernetes resource quantities: parsing what a manifest says, formatting what sizing decided.

CPU is handled in millicores and memory in MiB (or bytes); a fractional request rounds up, as
Kubernetes does.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
# The apimachinery grammar. The exponent form is tried before the suffixes so that "1E3" is 1000
# while "1E" is one exa.
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:\d+\.?\d*|\.\d+))"
    r"(?:(?P<binary>Ki|Mi|Gi|Ti|Pi|Ei)|[eE](?P<exponent>[+-]?\d+)|(?P<decimal>[numkMGTPE]?))"
)
MIB = 2**20
MIB_PER_GIB = 1024
GIB_PER_TIB = 1024


class QuantityError(ValueError):
    """A value Kubernetes would refuse as a resource quantity."""


def parse_quantity(value: object) -> Decimal:
    """The exact value in base units (cores, bytes, GPUs): `500m`, `1.5Gi`, `2e3`, 4."""
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a quantity")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise QuantityError(f"{value!r} is not a quantity")
        return Decimal(str(value))
    if not isinstance(value, str):
        raise QuantityError(f"{value!r} is not a quantity")
    match = _QUANTITY.fullmatch(value)
    if match is None:
        raise QuantityError(f"{value!r} is not a quantity (expected e.g. '500m', '2', '4Gi')")
    try:
        number = Decimal(match["number"])
    except InvalidOperation as error:
        raise QuantityError(f"{value!r} is not a quantity") from error
    if match["binary"]:
        return number * _BINARY[match["binary"]]
    if match["exponent"] is not None:
        return number.scaleb(int(match["exponent"]))
    return number.scaleb(_DECIMAL[match["decimal"] or ""])


def _whole(amount: Decimal, value: object) -> int:
    if amount < 0:
        raise QuantityError(f"negative quantity: {value!r}")
    return math.ceil(amount)


def whole_units(value: object) -> int:
    """A count such as `nvidia.com/gpu: 1`, rounded up."""
    return _whole(parse_quantity(value), value)


def cpu_millicores(value: object) -> int:
    """`500m` → 500, `2` → 2000, `0.1` → 100."""
    return _whole(parse_quantity(value) * 1000, value)


def memory_bytes(value: object) -> int:
    """`512Mi` → 536870912, `1G` → 10**9."""
    return _whole(parse_quantity(value), value)


def memory_mib(value: object) -> int:
    """Whole MiB, rounded up: `1Gi` → 1024."""
    return _whole(parse_quantity(value) / MIB, value)


def format_cpu(millicores: int) -> str:
    """`45000m`: millicores keep every figure exact and comparable."""
    if millicores < 0:
        raise ValueError("millicores must be >= 0")
    return f"{millicores}m"


def format_memory(mib: int) -> str:
    """The largest binary unit that states `mib` exactly: `1Ti`, `64Gi`, `512Mi`."""
    if mib < 0:
        raise ValueError("mib must be >= 0")
    if mib and mib % (MIB_PER_GIB * GIB_PER_TIB) == 0:
        return f"{mib // (MIB_PER_GIB * GIB_PER_TIB)}Ti"
    if mib and mib % MIB_PER_GIB == 0:
        return f"{mib // MIB_PER_GIB}Gi"
    return f"{mib}Mi"


def format_storage(gib: int) -> str:
    return format_memory(gib * MIB_PER_GIB)


def round_up_to_cores(millicores: int) -> int:
    return -(-millicores // 1000) * 1000


def round_up_to_gib(mib: int) -> int:
    return -(-mib // MIB_PER_GIB) * MIB_PER_GIB
