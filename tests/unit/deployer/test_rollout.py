import itertools

import pytest

from services.deployer.scheduling import workloads_in
from services.deployer.virtual_cluster import rollout_plan
from tests.unit.deployer.k8s_objects import deployment, hpa, resource_quota

pytestmark = pytest.mark.unit

OBJECTS = [
    deployment("stt", replicas=2),
    deployment("callbot", replicas=None),
    hpa("callbot", min_replicas=3),
    deployment("idle", replicas=0),
    resource_quota(),
]


def test_workloads_roll_out_side_by_side_one_replica_at_a_time():
    steps = rollout_plan(OBJECTS, seconds_per_replica=10)

    assert [(s.at_seconds, s.workload, s.ready_replicas, s.desired_replicas) for s in steps] == [
        (10.0, "callbot", 1, 3),
        (10.0, "stt", 1, 2),
        (20.0, "callbot", 2, 3),
        (20.0, "stt", 2, 2),
        (30.0, "callbot", 3, 3),
    ]
    assert [s.ready_total for s in steps] == [1, 2, 3, 4, 5]
    assert {s.desired_total for s in steps} == {5}
    assert {s.kind for s in steps} == {"Deployment"}


def test_without_a_seed_the_plan_never_varies():
    assert rollout_plan(OBJECTS, 2.5) == rollout_plan(list(reversed(OBJECTS)), 2.5)


def test_a_seed_gives_reproducible_jitter_within_half_to_one_and_a_half_steps():
    plain = rollout_plan(OBJECTS, 10)
    jittered = rollout_plan(OBJECTS, 10, seed=7)

    assert jittered == rollout_plan(OBJECTS, 10, seed=7)
    assert jittered != plain
    assert jittered != rollout_plan(OBJECTS, 10, seed=8)
    for workload in ("callbot", "stt"):
        times = [0.0] + [s.at_seconds for s in jittered if s.workload == workload]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(4.99 <= gap <= 15.01 for gap in gaps)
    assert [s.at_seconds for s in jittered] == sorted(s.at_seconds for s in jittered)


def test_nothing_to_roll_out_gives_an_empty_plan():
    assert rollout_plan([resource_quota(), deployment("idle", replicas=0)], 5) == []


@pytest.mark.parametrize("seconds", [-1.0, float("inf"), float("nan")])
def test_a_negative_or_infinite_step_is_refused(seconds):
    with pytest.raises(ValueError, match="seconds_per_replica"):
        rollout_plan(OBJECTS, seconds)


def test_workloads_read_by_the_caller_plan_as_the_objects_do() -> None:
    given = rollout_plan(OBJECTS, 10, seed=3, workloads=workloads_in(OBJECTS))
    assert given == rollout_plan(OBJECTS, 10, seed=3)
