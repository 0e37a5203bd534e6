"""Judging one rule at one moment: its next state, the transition, and which notification is due.
No I/O: the windows, the clock and the settings come in as arguments."""

from __future__ import annotations

from dataclasses import dataclass

from services.alerts.conditions import comparisons_of
from services.alerts.rules import Rule
from services.alerts.state_machine import AlertStatus, RuleState, Transition, retire, step
from services.alerts.verdicts import evaluate, operand_value
from services.alerts.windows import WindowStore


@dataclass
class Tracked:
    """A rule and where it stands."""

    rule: Rule
    metrics: frozenset[str]
    state: RuleState
    value: float | None = None
    repeat: int = 0
    last_notified_at: float | None = None


@dataclass
class Outcome:
    """One rule's evaluation result that must be written."""

    tracked: Tracked
    state: RuleState
    value: float | None
    transition: Transition | None
    repeat: int
    last_notified_at: float | None
    notify: str | None  # firing | resolved, when notifications are due


def judge(
    tracked: Tracked,
    window: WindowStore,
    now: float,
    stale_after_s: float,
    repeat_interval_s: float,
) -> Outcome | None:
    """What evaluating the rule at `now` changes; None when nothing worth a write does.
    `repeat_interval_s` applies to rules that set none of their own."""
    rule = tracked.rule
    if not rule.enabled:
        return ending(tracked, now)
    verdict = evaluate(rule.condition, window, now, stale_after_s)
    state, transition = step(tracked.state, verdict, now, rule.duration_s, rule.keep_firing_for_s)
    first = next(comparisons_of(rule.condition))
    value = operand_value(first.operand, window, now, stale_after_s)
    repeat, notified, notify = tracked.repeat, tracked.last_notified_at, None
    if transition is not None and transition.notifies:
        repeat, notified, notify = 0, now, transition.kind.value
    elif state.status is AlertStatus.FIRING and notified is not None:
        interval = rule.repeat_interval_s or repeat_interval_s
        if now - notified >= interval:
            repeat, notified, notify = repeat + 1, now, "firing"
    material = not state.same_apart_from_time(tracked.state)
    if transition is None and notify is None and not material:
        tracked.state = state  # only evaluated_at moved: not worth a write
        return None
    return Outcome(tracked, state, value, transition, repeat, notified, notify)


def ending(tracked: Tracked, now: float) -> Outcome | None:
    """The outcome of a rule that stops being evaluated (deleted or disabled): its firing alert
    resolves and is notified like any resolution; None when no alert is active."""
    state, transition = retire(tracked.state, now)
    if transition is None:
        return None
    if transition.notifies:
        return Outcome(tracked, state, tracked.value, transition, 0, now, transition.kind.value)
    return Outcome(
        tracked, state, tracked.value, transition, tracked.repeat, tracked.last_notified_at, None
    )
