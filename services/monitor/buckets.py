"""How a query window is answered: raw points for short windows, time buckets for long ones."""

from __future__ import annotations

from dataclasses import dataclass

RAW_WINDOW_SECONDS = 3600.0
MAX_BUCKETS = 400
# Bucket widths a dashboard reads easily; the smallest that keeps the answer under MAX_BUCKETS.
BUCKET_LADDER_SECONDS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400)


@dataclass(frozen=True)
class Resolution:
    raw: bool
    bucket_seconds: int | None  # None for raw points

    @property
    def name(self) -> str:
        return "raw" if self.raw else "bucket"


def resolution_for(window_seconds: float) -> Resolution:
    """Raw points up to an hour; above, the narrowest ladder bucket giving at most MAX_BUCKETS."""
    if window_seconds <= RAW_WINDOW_SECONDS:
        return Resolution(raw=True, bucket_seconds=None)
    for width in BUCKET_LADDER_SECONDS:
        if window_seconds / width <= MAX_BUCKETS:
            return Resolution(raw=False, bucket_seconds=width)
    return Resolution(raw=False, bucket_seconds=BUCKET_LADDER_SECONDS[-1])
