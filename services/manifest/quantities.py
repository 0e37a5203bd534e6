"""Kubernetes resource quantities: formatting sizing figures and parsing what a manifest says."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
# The apimachinery grammar: a signed decimal number, then a binary or decimal SI suffix or an
# exponent (`1e3`, `2E-2`).
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:\d+\.?\d*|\.\d+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$"
)
_MIB = 2**20


class QuantityError(ValueError):
    """A value that is not a Kubernetes quantity."""


def parse_quantity(value: object) -> Decimal:
    """The quantity's value in base units (cores, bytes, GPUs)."""
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a quantity")
    if isinstance(value, int | float):
        return Decimal(str(value))
    if not isinstance(value, str):
        raise QuantityError(f"{value!r} is not a quantity")
    match = _QUANTITY.match(value.strip())
    if match is None or value != value.strip():
        raise QuantityError(f"{value!r} is not a quantity (expected e.g. '500m', '2', '4Gi')")
    try:
        number = Decimal(match["number"])
    except InvalidOperation as error:
        raise QuantityError(f"{value!r} is not a quantity") from error
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * (Decimal(10) ** int(suffix[1:]))


def millicores(value: object) -> int:
    """CPU quantity as whole millicores, rounded up as the kubelet does."""
    return int((parse_quantity(value) * 1000).to_integral_value(rounding="ROUND_CEILING"))


def mebibytes(value: object) -> int:
    """Memory quantity as whole MiB, rounded up."""
    return int((parse_quantity(value) / _MIB).to_integral_value(rounding="ROUND_CEILING"))


def format_cpu(cpu_millicores: int) -> str:
    return f"{cpu_millicores}m"


def format_memory(memory_mib: int) -> str:
    """`1024` -> `1Gi`, `1536` -> `1536Mi`: the largest binary unit that divides exactly."""
    if memory_mib and memory_mib % (1024 * 1024) == 0:
        return f"{memory_mib // (1024 * 1024)}Ti"
    if memory_mib and memory_mib % 1024 == 0:
        return f"{memory_mib // 1024}Gi"
    return f"{memory_mib}Mi"
