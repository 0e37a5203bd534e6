"""A condition's verdict at one moment over a tenant's sample windows: true, false or no data."""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable
from enum import StrEnum

from services.alerts.conditions import And, Comparison, Condition, Latest, Not, WindowFunction
from services.alerts.windows import DEFAULT_STALE_AFTER_S, WindowStore

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
