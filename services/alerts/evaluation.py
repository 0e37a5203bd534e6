"""Rule evaluation: recent samples per metric, three-valued verdicts, the alert state machine."""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from services.alerts.conditions import (
    And,
    Comparison,
    Condition,
    Latest,
    Not,
    WindowFunction,
    longest_window,
    metrics_of,
)

DEFAULT_STALE_AFTER_S = 300.0
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


class Verdict(StrEnum):
    TRUE = "true"
    FALSE = "false"
    NO_DATA = "no_data"


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
        if metric not in self._times and len(self._times) >= self.max_metrics:
            return False
        times = self._times.setdefault(metric, [])
        values = self._values.setdefault(metric, [])
        if times and timestamp <= times[-1] - self.retention_s:
            return False
        index = bisect.bisect_left(times, timestamp)
        if index < len(times) and times[index] == timestamp:
            values[index] = value  # a redelivered sample replaces, never doubles
            return True
        times.insert(index, timestamp)
        values.insert(index, value)
        self._trim(times, values)
        return True

    def add_batch(self, timestamp: float, metrics: Mapping[str, float]) -> None:
        """Keep every sample of one push (`{timestamp, metrics: {name: value}}`)."""
        for metric, value in metrics.items():
            self.add(metric, timestamp, value)

    def _trim(self, times: list[float], values: list[float]) -> None:
        cut = bisect.bisect_right(times, times[-1] - self.retention_s)
        cut = max(cut, len(times) - self.max_samples_per_metric)
        if cut > 0:
            del times[:cut]
            del values[:cut]

    def window(self, metric: str, start: float, end: float) -> list[tuple[float, float]]:
        """Samples with start < timestamp <= end, oldest first."""
        times = self._times.get(metric, [])
        low = bisect.bisect_right(times, start)
        high = bisect.bisect_right(times, end)
        return list(zip(times[low:high], self._values[metric][low:high], strict=True))

    def latest(self, metric: str, at: float) -> tuple[float, float] | None:
        """The newest sample at or before `at`."""
        times = self._times.get(metric, [])
        index = bisect.bisect_right(times, at) - 1
        return (times[index], self._values[metric][index]) if index >= 0 else None

    def sample_count(self) -> int:
        return sum(len(times) for times in self._times.values())


def _rate(samples: list[tuple[float, float]]) -> float | None:
    # Per-second increase; a drop means the counter restarted from zero, as in PromQL.
    if len(samples) < 2:
        return None
    increase = 0.0
    for (_, before), (_, after) in itertools.pairwise(samples):
        increase += after - before if after >= before else after
    return increase / (samples[-1][0] - samples[0][0])


def _window_value(samples: list[tuple[float, float]], function: str) -> float | None:
    if function == "rate":
        return _rate(samples)
    if not samples:
        return None
    values = [value for _, value in samples]
    by_function: dict[str, Callable[[list[float]], float]] = {
        "avg": lambda v: math.fsum(v) / len(v),
        "max": max,
        "min": min,
        "sum": math.fsum,
        "count": lambda v: float(len(v)),
        "last": lambda v: v[-1],
    }
    return by_function[function](values)


def operand_value(
    operand: Latest | WindowFunction, store: WindowStore, now: float, stale_after_s: float
) -> float | None:
    """The operand's value at `now`, or None when there is no (fresh) data."""
    if isinstance(operand, Latest):
        sample = store.latest(operand.metric, now)
        if sample is None or now - sample[0] > stale_after_s:
            return None
        return sample[1]
    samples = store.window(operand.metric, now - operand.window_s, now)
    return _window_value(samples, operand.function)


def evaluate(
    condition: Condition,
    store: WindowStore,
    now: float,
    stale_after_s: float = DEFAULT_STALE_AFTER_S,
) -> Verdict:
    """Kleene's three-valued logic: FALSE wins an `and`, TRUE wins an `or`, else NO_DATA."""
    if isinstance(condition, Comparison):
        value = operand_value(condition.operand, store, now, stale_after_s)
        if value is None:
            return Verdict.NO_DATA
        holds = _COMPARE[condition.op](value, condition.threshold)
        return Verdict.TRUE if holds else Verdict.FALSE
    if isinstance(condition, Not):
        inner = evaluate(condition.term, store, now, stale_after_s)
        flipped = {Verdict.TRUE: Verdict.FALSE, Verdict.FALSE: Verdict.TRUE}
        return flipped.get(inner, Verdict.NO_DATA)
    verdicts = {evaluate(term, store, now, stale_after_s) for term in condition.terms}
    decisive = Verdict.FALSE if isinstance(condition, And) else Verdict.TRUE
    if decisive in verdicts:
        return decisive
    if Verdict.NO_DATA in verdicts:
        return Verdict.NO_DATA
    return Verdict.TRUE if isinstance(condition, And) else Verdict.FALSE


class AlertStatus(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"


class TransitionKind(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"  # pending, then the condition stopped holding before `duration`


@dataclass(frozen=True)
class RuleState:
    """Where one rule of one tenant stands; `to_dict`/`from_dict` let the service persist it."""

    status: AlertStatus = AlertStatus.INACTIVE
    sequence: int = 0  # counts episodes: each pending-or-firing stretch gets the next number
    active_since: float | None = None
    fired_at: float | None = None
    cleared_since: float | None = None  # while firing: since when it has not held
    evaluated_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleState:
        def moment(key: str) -> float | None:
            value = data.get(key)
            if value is not None and not isinstance(value, int | float):
                raise ValueError(f"rule state field {key!r} must be a number, not {value!r}")
            return None if value is None else float(value)

        sequence = data.get("sequence", 0)
        if not isinstance(sequence, int) or sequence < 0:
            raise ValueError(f"rule state sequence must be a non-negative integer: {sequence!r}")
        return cls(
            status=AlertStatus(data.get("status", AlertStatus.INACTIVE)),
            sequence=sequence,
            active_since=moment("active_since"),
            fired_at=moment("fired_at"),
            cleared_since=moment("cleared_since"),
            evaluated_at=moment("evaluated_at"),
        )


@dataclass(frozen=True)
class Transition:
    """A change of a rule's state; (rule, tenant, sequence, kind) identifies a notification."""

    kind: TransitionKind
    sequence: int
    at: float
    verdict: Verdict
    active_since: float | None
    fired_at: float | None

    @property
    def notifies(self) -> bool:
        return self.kind in (TransitionKind.FIRING, TransitionKind.RESOLVED)


def step(
    state: RuleState,
    verdict: Verdict,
    now: float,
    duration_s: float,
    keep_firing_for_s: float = 0.0,
) -> tuple[RuleState, Transition | None]:
    """The rule's next state after one evaluation at `now`; an evaluation at or before the
    last one changes nothing, so a replayed evaluation is harmless."""
    if state.evaluated_at is not None and now <= state.evaluated_at:
        return state, None
    state = replace(state, evaluated_at=now)
    if state.status is AlertStatus.INACTIVE:
        if verdict is not Verdict.TRUE:
            return state, None
        state = replace(state, sequence=state.sequence + 1, active_since=now, fired_at=None)
        if duration_s > 0:
            state = replace(state, status=AlertStatus.PENDING)
            return state, _transition(TransitionKind.PENDING, state, verdict)
        return _fire(state, verdict)
    if state.status is AlertStatus.PENDING:
        if verdict is not Verdict.TRUE:
            cancelled = _transition(TransitionKind.CANCELLED, state, verdict)
            return _inactive(state), cancelled
        if state.active_since is not None and now - state.active_since < duration_s:
            return state, None
        return _fire(state, verdict)
    if verdict is Verdict.TRUE:
        return replace(state, cleared_since=None), None
    # NO_DATA counts as "not holding" here: a firing alert whose data stopped resolves after
    # keep_firing_for, like one whose condition cleared; stale_after has already given grace.
    cleared_since = now if state.cleared_since is None else state.cleared_since
    state = replace(state, cleared_since=cleared_since)
    if now - cleared_since < keep_firing_for_s:
        return state, None
    resolved = _transition(TransitionKind.RESOLVED, state, verdict)
    return _inactive(state), resolved


def _fire(state: RuleState, verdict: Verdict) -> tuple[RuleState, Transition]:
    fired = replace(state, status=AlertStatus.FIRING, fired_at=state.evaluated_at)
    return fired, _transition(TransitionKind.FIRING, fired, verdict)


def _inactive(state: RuleState) -> RuleState:
    return RuleState(sequence=state.sequence, evaluated_at=state.evaluated_at)


def _transition(kind: TransitionKind, state: RuleState, verdict: Verdict) -> Transition:
    at = state.evaluated_at if state.evaluated_at is not None else 0.0
    return Transition(kind, state.sequence, at, verdict, state.active_since, state.fired_at)


def fingerprint(tenant_id: str, rule_name: str, labels: Mapping[str, str]) -> str:
    """A stable 16-hex-digit id of one alert, like Alertmanager's: the same for the same
    labels in any order. `alertname` and `tenant_id` always come from the arguments."""
    identity = {**labels, "alertname": rule_name, "tenant_id": tenant_id}
    # JSON of the sorted pairs: no choice of separator can make two label sets collide.
    encoded = json.dumps(sorted(identity.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()[:16]
