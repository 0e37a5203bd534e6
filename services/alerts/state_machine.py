"""The alert state machine: inactive, pending, firing, and the transitions between them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from services.alerts.verdicts import Verdict


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

    def same_apart_from_time(self, other: RuleState) -> bool:
        """Equal in all but `evaluated_at`: a change not worth a write."""
        return (
            self.status is other.status
            and self.sequence == other.sequence
            and self.active_since == other.active_since
            and self.fired_at == other.fired_at
            and self.cleared_since == other.cleared_since
        )

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


def retire(state: RuleState, now: float) -> tuple[RuleState, Transition | None]:
    """The rule stops being evaluated (deleted or disabled): a firing alert resolves and a
    pending one is cancelled at `now`, whatever its condition says. The episode count stays,
    so a rule enabled again starts a new episode. There is no verdict: it reads NO_DATA."""
    if state.status is AlertStatus.INACTIVE:
        return state, None
    last = state.evaluated_at
    state = replace(state, evaluated_at=now if last is None else max(now, last))
    firing = state.status is AlertStatus.FIRING
    kind = TransitionKind.RESOLVED if firing else TransitionKind.CANCELLED
    return _inactive(state), _transition(kind, state, Verdict.NO_DATA)


def _fire(state: RuleState, verdict: Verdict) -> tuple[RuleState, Transition]:
    fired = replace(state, status=AlertStatus.FIRING, fired_at=state.evaluated_at)
    return fired, _transition(TransitionKind.FIRING, fired, verdict)


def _inactive(state: RuleState) -> RuleState:
    return RuleState(sequence=state.sequence, evaluated_at=state.evaluated_at)


def _transition(kind: TransitionKind, state: RuleState, verdict: Verdict) -> Transition:
    at = state.evaluated_at if state.evaluated_at is not None else 0.0
    return Transition(kind, state.sequence, at, verdict, state.active_since, state.fired_at)
