"""Alert conditions (`avg(cpu_usage[5m]) > 80 and gpu_usage > 90`): the AST, what it reads,
and its canonical text."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from services.alerts.durations import format_duration

# PromQL's range functions for each window function of the grammar.
WINDOW_FUNCTIONS = {
    "avg": "avg_over_time",
    "max": "max_over_time",
    "min": "min_over_time",
    "sum": "sum_over_time",
    "count": "count_over_time",
    "last": "last_over_time",
    "rate": "rate",
}


@dataclass(frozen=True)
class Latest:
    """The latest value of one metric of the tenant (a plain `cpu_usage` in a condition)."""

    metric: str


@dataclass(frozen=True)
class WindowFunction:
    """A function over the samples of one metric in the last `window_s` seconds."""

    function: str
    metric: str
    window_s: float


Operand = Latest | WindowFunction


@dataclass(frozen=True)
class Comparison:
    operand: Operand
    op: str
    threshold: float


@dataclass(frozen=True)
class Not:
    term: Condition


@dataclass(frozen=True)
class And:
    terms: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    terms: tuple[Condition, ...]


Condition = Comparison | Not | And | Or


def comparisons_of(condition: Condition) -> Iterator[Comparison]:
    """Every comparison in the condition, left to right."""
    if isinstance(condition, Comparison):
        yield condition
        return
    for term in (condition.term,) if isinstance(condition, Not) else condition.terms:
        yield from comparisons_of(term)


def metrics_of(condition: Condition) -> set[str]:
    """Every metric name the condition reads."""
    return {comparison.operand.metric for comparison in comparisons_of(condition)}


def longest_window(condition: Condition) -> float:
    """The longest window in seconds any function of the condition reads (0 for none)."""
    operands = (comparison.operand for comparison in comparisons_of(condition))
    windows = (o.window_s for o in operands if isinstance(o, WindowFunction))
    return max(windows, default=0.0)


def number_text(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def operand_text(operand: Operand) -> str:
    if isinstance(operand, Latest):
        return operand.metric
    return f"{operand.function}({operand.metric}[{format_duration(operand.window_s)}])"


def format_condition(condition: Condition) -> str:
    """Canonical text of a condition; parsing it gives back an equal AST."""
    if isinstance(condition, Comparison):
        return (
            f"{operand_text(condition.operand)} {condition.op} {number_text(condition.threshold)}"
        )
    if isinstance(condition, Not):
        inner = format_condition(condition.term)
        bare = isinstance(condition.term, Comparison | Not)
        return f"not {inner}" if bare else f"not ({inner})"
    joiner = " and " if isinstance(condition, And) else " or "
    parts = []
    for term in condition.terms:
        text = format_condition(term)
        parts.append(f"({text})" if isinstance(term, And | Or) else text)
    return joiner.join(parts)
