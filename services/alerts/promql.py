"""Conditions as PromQL over the `ecp_tenant_<metric>` gauges, for Prometheus rule files."""

from __future__ import annotations

from services.alerts.conditions import (
    WINDOW_FUNCTIONS,
    And,
    Comparison,
    Condition,
    Latest,
    Not,
    Or,
    number_text,
)
from services.alerts.durations import format_duration

_NEGATED = {">": "<=", "<=": ">", "<": ">=", ">=": "<", "==": "!=", "!=": "=="}


def _negate(condition: Condition) -> Condition:
    # PromQL has no boolean `not` over vectors; De Morgan and flipped comparisons keep the
    # meaning, including "no data" (an absent series stays absent on both sides).
    if isinstance(condition, Comparison):
        return Comparison(condition.operand, _NEGATED[condition.op], condition.threshold)
    if isinstance(condition, Not):
        return condition.term
    if isinstance(condition, And):
        return Or(tuple(_negate(term) for term in condition.terms))
    return And(tuple(_negate(term) for term in condition.terms))


def _label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_promql(condition: Condition, tenant_id: str) -> str:
    """A PromQL expression over the `ecp_tenant_<metric>` gauges of one tenant."""
    selector = f'{{tenant_id="{_label_value(tenant_id)}"}}'
    if isinstance(condition, Not):
        return to_promql(_negate(condition.term), tenant_id)
    if isinstance(condition, Comparison):
        operand = condition.operand
        if isinstance(operand, Latest):
            series = f"ecp_tenant_{operand.metric}{selector}"
        else:
            window = format_duration(operand.window_s)
            function = WINDOW_FUNCTIONS[operand.function]
            series = f"{function}(ecp_tenant_{operand.metric}{selector}[{window}])"
        return f"{series} {condition.op} {number_text(condition.threshold)}"
    # Matching on tenant_id alone keeps `and`/`or` working whatever other labels a scrape adds.
    joiner = " and on (tenant_id) " if isinstance(condition, And) else " or on (tenant_id) "
    parts = []
    for term in condition.terms:
        plain = _negate(term.term) if isinstance(term, Not) else term
        text = to_promql(plain, tenant_id)
        parts.append(f"({text})" if isinstance(plain, And | Or) else text)
    return joiner.join(parts)
