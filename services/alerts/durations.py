"""Durations as alert rules write them (`30s`, `5m`, `1h30m`), read to and from seconds."""

from __future__ import annotations

import re

# Prometheus' units, largest first; a compound duration must use them in this order, once each.
UNITS: dict[str, float] = {
    "w": 604_800.0,
    "d": 86_400.0,
    "h": 3_600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 0.001,
}
_PART = re.compile(r"([0-9]+)([a-z]+)")
# A week or more is never written back as weeks: days read better in a rule (`14d`).
_FORMAT_UNITS = ("d", "h", "m", "s", "ms")
_LONGEST_S = 10 * 365 * 86_400.0


class DurationError(ValueError):
    """A duration that cannot be read; the message says why."""


def parse_duration(text: str) -> float:
    """Seconds in a duration such as `30s`, `5m`, `1h30m` or `500ms`; `0s` is zero."""
    if not isinstance(text, str) or not text.strip():
        raise DurationError("a duration is empty; write it like 30s, 5m or 1h")
    cleaned = text.strip()
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", cleaned):
        raise DurationError(
            f"duration '{cleaned}' needs a unit (ms, s, m, h, d, w), e.g. {cleaned}s"
        )
    if re.fullmatch(r"[0-9]*\.[0-9]+[a-z]+", cleaned):
        raise DurationError(f"duration '{cleaned}' has a fraction; write whole units, e.g. 1m30s")
    parts = _PART.findall(cleaned)
    if not parts or "".join(n + u for n, u in parts) != cleaned:
        raise DurationError(f"'{cleaned}' is not a duration; write it like 30s, 5m or 1h")
    seconds = 0.0
    previous_rank = -1
    for number, unit in parts:
        if unit not in UNITS:
            known = ", ".join(UNITS)
            raise DurationError(f"unknown unit '{unit}' in duration '{cleaned}' (known: {known})")
        rank = list(UNITS).index(unit)
        if rank <= previous_rank:
            raise DurationError(f"duration '{cleaned}' must list units largest first, each once")
        previous_rank = rank
        seconds += int(number) * UNITS[unit]
    if seconds > _LONGEST_S:
        raise DurationError(f"duration '{cleaned}' is longer than ten years")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest Prometheus duration for `seconds` (`300` -> `5m`, `5400` -> `1h30m`)."""
    if seconds < 0:
        raise DurationError(f"a duration cannot be negative ({seconds})")
    remaining_ms = round(seconds * 1000)
    if remaining_ms == 0:
        return "0s"
    text = ""
    for unit in _FORMAT_UNITS:
        unit_ms = round(UNITS[unit] * 1000)
        count, remaining_ms = divmod(remaining_ms, unit_ms)
        if count:
            text += f"{count}{unit}"
    return text
