"""One tenant's recent samples per metric, sorted by time and bounded in count and age."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping

from services.alerts.conditions import Condition, longest_window, metrics_of

DEFAULT_STALE_AFTER_S = 300.0


class WindowStore:
    """One tenant's recent samples, per metric, sorted by time and bounded in count and age."""

    def __init__(
        self,
        retention_s: float,
        *,
        wanted: Iterable[str] | None = None,
        max_samples_per_metric: int = 4096,
        max_metrics: int = 256,
    ) -> None:
        self.retention_s = retention_s
        self.wanted = None if wanted is None else frozenset(wanted)
        self.max_samples_per_metric = max_samples_per_metric
        self.max_metrics = max_metrics
        self._times: dict[str, list[float]] = {}
        self._values: dict[str, list[float]] = {}
        # Where each metric's kept samples start in its lists: those before are gone.
        self._heads: dict[str, int] = {}

    @classmethod
    def for_conditions(
        cls,
        conditions: Iterable[Condition],
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
        margin_s: float = 60.0,
    ) -> WindowStore:
        """A store that keeps exactly what these conditions read, and no more."""
        conditions = list(conditions)
        longest = max((longest_window(c) for c in conditions), default=0.0)
        wanted = set().union(*(metrics_of(c) for c in conditions))
        return cls(max(longest, stale_after_s) + margin_s, wanted=wanted)

    def add(self, metric: str, timestamp: float, value: float) -> bool:
        """Keep one sample; False when it is not kept (unwanted, non-finite, too old, full)."""
        if self.wanted is not None and metric not in self.wanted:
            return False
        if not (math.isfinite(timestamp) and math.isfinite(value)):
            return False
        times = self._times.get(metric)
        if times is None:
            if len(self._times) >= self.max_metrics:
                return False
            times, self._values[metric], self._heads[metric] = [], [], 0
            self._times[metric] = times
        values, head = self._values[metric], self._heads[metric]
        if not times or timestamp > times[-1]:
            times.append(timestamp)  # the usual case: newer than anything kept
            values.append(value)
        else:
            if timestamp <= times[-1] - self.retention_s:
                return False
            index = bisect.bisect_left(times, timestamp, head)
            if times[index] == timestamp:
                values[index] = value  # a redelivered sample replaces, never doubles
                return True
            times.insert(index, timestamp)
            values.insert(index, value)
        self._trim(metric, times, values, head)
        return True

    def add_batch(self, timestamp: float, metrics: Mapping[str, float]) -> None:
        """Keep every sample of one push (`{timestamp, metrics: {name: value}}`)."""
        for metric, value in metrics.items():
            self.add(metric, timestamp, value)

    def _trim(self, metric: str, times: list[float], values: list[float], head: int) -> None:
        """Samples too old or too many leave by moving the head; the lists are cut only once
        half of them is behind it (cutting the front of a full list at every sample moved
        the whole list each time)."""
        oldest_kept = times[-1] - self.retention_s
        cut = head
        if times[head] <= oldest_kept:
            cut = bisect.bisect_right(times, oldest_kept, head)
        cut = max(cut, len(times) - self.max_samples_per_metric)
        if cut > len(times) // 2:
            del times[:cut]
            del values[:cut]
            cut = 0
        self._heads[metric] = cut

    def window(self, metric: str, start: float, end: float) -> list[tuple[float, float]]:
        """Samples with start < timestamp <= end, oldest first."""
        times = self._times.get(metric, [])
        head = self._heads.get(metric, 0)
        low = bisect.bisect_right(times, start, head)
        high = bisect.bisect_right(times, end, head)
        return list(zip(times[low:high], self._values[metric][low:high], strict=True))

    def latest(self, metric: str, at: float) -> tuple[float, float] | None:
        """The newest sample at or before `at`."""
        times = self._times.get(metric, [])
        head = self._heads.get(metric, 0)
        index = bisect.bisect_right(times, at, head) - 1
        return (times[index], self._values[metric][index]) if index >= head else None

    def sample_count(self) -> int:
        return sum(len(times) - self._heads[metric] for metric, times in self._times.items())
