"""A rule's life: inactive, pending, firing, resolved, with the clock passed in."""

import pytest

from services.alerts.state_machine import (
    AlertStatus,
    RuleState,
    Transition,
    TransitionKind,
    retire,
    step,
)
from services.alerts.verdicts import Verdict

pytestmark = pytest.mark.unit

T, F, N = Verdict.TRUE, Verdict.FALSE, Verdict.NO_DATA


def run(
    verdicts: list[Verdict], duration_s: float, keep_firing_for_s: float = 0.0, every_s: float = 60
) -> tuple[RuleState, list[Transition]]:
    """Evaluate once a minute from t=0; the final state and every transition on the way."""
    state, transitions = RuleState(), []
    for tick, verdict in enumerate(verdicts):
        state, transition = step(state, verdict, tick * every_s, duration_s, keep_firing_for_s)
        if transition is not None:
            transitions.append(transition)
    return state, transitions


def kinds(transitions: list[Transition]) -> list[tuple[str, float]]:
    return [(t.kind.value, t.at) for t in transitions]


def test_a_rule_goes_pending_then_fires_after_its_duration_then_resolves():
    state, transitions = run([F, T, T, T, T, T, T, F], duration_s=300)
    assert kinds(transitions) == [("pending", 60), ("firing", 360), ("resolved", 420)]
    firing, resolved = transitions[1], transitions[2]
    assert firing.active_since == 60 and firing.fired_at == 360
    assert resolved.active_since == 60 and resolved.fired_at == 360
    assert {t.sequence for t in transitions} == {1}
    assert state.status is AlertStatus.INACTIVE


def test_a_condition_that_stops_before_its_duration_never_fires():
    _, transitions = run([T, T, F, T], duration_s=300)
    assert kinds(transitions) == [("pending", 0), ("cancelled", 120), ("pending", 180)]
    assert [t.sequence for t in transitions] == [1, 1, 2]
    assert not any(t.notifies for t in transitions)


def test_duration_zero_fires_at_once():
    state, transitions = run([T], duration_s=0)
    assert kinds(transitions) == [("firing", 0)]
    assert transitions[0].notifies and state.fired_at == 0 == state.active_since


def test_keep_firing_for_rides_out_a_flapping_condition():
    flapping = [T, F, T, F, F, T, F, F, F, F, F]
    _, without = run(flapping, duration_s=0)
    assert [k for k, _ in kinds(without)].count("firing") == 3
    _, with_keep = run(flapping, duration_s=0, keep_firing_for_s=180)
    assert kinds(with_keep) == [("firing", 0), ("resolved", 540)]


def test_each_episode_has_a_new_sequence_so_notifications_deduplicate():
    _, transitions = run([T, F, T, F], duration_s=0)
    keys = [(t.sequence, t.kind.value) for t in transitions]
    assert keys == [(1, "firing"), (1, "resolved"), (2, "firing"), (2, "resolved")]


def test_no_data_while_pending_goes_back_to_inactive():
    state, transitions = run([T, N], duration_s=300)
    assert kinds(transitions) == [("pending", 0), ("cancelled", 60)]
    assert transitions[-1].verdict is N
    assert state.status is AlertStatus.INACTIVE


def test_no_data_while_firing_keeps_firing_until_stale_for_keep_firing_for():
    state, transitions = run([T, N, N], duration_s=0, keep_firing_for_s=120)
    assert kinds(transitions) == [("firing", 0)]
    assert state.status is AlertStatus.FIRING
    state, transitions = run([T, N, N, N, N], duration_s=0, keep_firing_for_s=180)
    assert kinds(transitions) == [("firing", 0), ("resolved", 240)]
    assert transitions[-1].verdict is N


def test_no_data_while_firing_resolves_at_once_without_keep_firing_for():
    _, transitions = run([T, N], duration_s=0)
    assert kinds(transitions) == [("firing", 0), ("resolved", 60)]


def test_no_data_while_inactive_changes_nothing():
    state, transitions = run([N, F, N], duration_s=60)
    assert transitions == [] and state.status is AlertStatus.INACTIVE and state.sequence == 0


def test_a_replayed_or_older_evaluation_changes_nothing():
    state, _ = step(RuleState(), T, 100.0, 0.0)
    again, transition = step(state, F, 100.0, 0.0)
    older, transition_older = step(state, F, 50.0, 0.0)
    assert again == state == older and transition is None and transition_older is None


def test_a_rule_state_survives_a_round_trip_through_a_dict():
    state, _ = run([T, T, F], duration_s=60, keep_firing_for_s=300)
    assert state.status is AlertStatus.FIRING and state.cleared_since == 120
    data = state.to_dict()
    assert data["status"] == "firing"
    assert RuleState.from_dict(data) == state
    assert RuleState.from_dict({}) == RuleState()


@pytest.mark.parametrize(
    "data",
    [{"status": "burning"}, {"sequence": -1}, {"sequence": "3"}, {"fired_at": "yesterday"}],
)
def test_a_corrupt_stored_state_is_refused(data):
    with pytest.raises(ValueError):
        RuleState.from_dict(data)


def test_firing_and_resolved_are_the_transitions_that_notify():
    assert {k.value for k in TransitionKind if Transition(k, 1, 0, T, 0, 0).notifies} == {
        "firing",
        "resolved",
    }


def test_a_retired_firing_alert_resolves_at_that_moment_and_keeps_its_episode():
    firing, _ = run([F, T, T], duration_s=60)
    state, resolved = retire(firing, 150.0)
    assert resolved is not None and resolved.notifies
    assert (resolved.kind, resolved.sequence, resolved.at) == (TransitionKind.RESOLVED, 1, 150)
    assert resolved.active_since == 60 and resolved.fired_at == 120
    assert state == RuleState(sequence=1, evaluated_at=150.0)


def test_a_retired_pending_alert_is_cancelled_without_a_notification():
    pending, _ = run([T], duration_s=300)
    state, cancelled = retire(pending, 30.0)
    assert cancelled is not None and cancelled.kind is TransitionKind.CANCELLED
    assert not cancelled.notifies and state.status is AlertStatus.INACTIVE


def test_retiring_an_inactive_rule_changes_nothing():
    inactive, _ = run([T, F], duration_s=0)
    assert retire(inactive, 500.0) == (inactive, None)


def test_a_rule_enabled_again_after_retiring_starts_the_next_episode():
    firing, _ = run([T], duration_s=0)
    state, _ = retire(firing, 10.0)
    again, transition = step(state, T, 20.0, 0.0)
    assert transition is not None and transition.kind is TransitionKind.FIRING
    assert transition.sequence == 2 and again.active_since == 20


def test_retiring_never_moves_the_last_evaluation_back():
    firing, _ = run([T, T], duration_s=0)  # last evaluated at 60
    state, resolved = retire(firing, 30.0)
    assert resolved is not None and resolved.at == 60 and state.evaluated_at == 60


def test_only_the_evaluation_time_is_ignored_when_comparing_states():
    """A field added to RuleState must count as a change worth a write."""
    import dataclasses

    from services.alerts.state_machine import AlertStatus, RuleState

    base = RuleState(AlertStatus.FIRING, 3, 10.0, 20.0, 30.0, 40.0)
    changed = {
        "status": AlertStatus.PENDING,
        "sequence": 4,
        "active_since": 11.0,
        "fired_at": 21.0,
        "cleared_since": None,
    }
    for field in dataclasses.fields(RuleState):
        if field.name == "evaluated_at":
            assert base.same_apart_from_time(dataclasses.replace(base, evaluated_at=99.0))
        else:
            other = dataclasses.replace(base, **{field.name: changed[field.name]})
            assert not base.same_apart_from_time(other), field.name
