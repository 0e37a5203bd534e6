"""The seed's metric names: `cpu` and `cpu_usage` are one metric."""

import pytest

from shared.contracts.monitoring import family_of, metric_names_for

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("metric_type", "names"),
    [
        ("cpu", ["cpu", "cpu_usage"]),
        ("cpu_usage", ["cpu", "cpu_usage"]),
        ("memory", ["memory", "memory_usage"]),
        ("gpu", ["gpu", "gpu_usage"]),
        ("requests", ["request_count", "requests"]),
        ("response_time", ["response_time"]),
        ("queue_depth", ["queue_depth"]),
    ],
)
def test_a_metric_type_matches_its_short_and_seed_names(metric_type, names):
    assert metric_names_for(metric_type) == names


def test_stored_names_carry_their_short_family():
    assert family_of("cpu_usage") == "cpu"
    assert family_of("queue_depth") == "queue_depth"
