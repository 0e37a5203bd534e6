"""The per-tenant sample store stays bounded whatever it is fed."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.alerts.condition_parser import parse_condition
from services.alerts.windows import WindowStore

pytestmark = pytest.mark.unit


def test_a_store_for_rules_keeps_the_longest_window_or_staleness_plus_a_margin():
    rules = [parse_condition("avg(cpu[1h]) > 1"), parse_condition("gpu > 1")]
    store = WindowStore.for_conditions(rules, stale_after_s=300, margin_s=60)
    assert store.retention_s == 3660
    assert store.wanted == {"cpu", "gpu"}
    assert WindowStore.for_conditions([parse_condition("gpu > 1")]).retention_s == 360


def test_metrics_no_rule_reads_are_not_kept():
    store = WindowStore.for_conditions([parse_condition("cpu > 1")])
    assert store.add("cpu", 1.0, 1.0)
    assert not store.add("disk", 1.0, 1.0)
    assert store.sample_count() == 1


def test_memory_stays_bounded_by_age_when_fed_many_samples():
    store = WindowStore(retention_s=600)
    for second in range(100_000):
        store.add("cpu", float(second), float(second))
    assert store.sample_count() == 600
    assert store.window("cpu", 0, 1e9)[0] == (99_400.0, 99_400.0)


def test_memory_stays_bounded_by_count_when_samples_are_dense():
    store = WindowStore(retention_s=600, max_samples_per_metric=1000)
    for tick in range(50_000):
        store.add("cpu", tick / 1000, 1.0)
    assert store.sample_count() == 1000


def test_memory_stays_bounded_by_the_number_of_metrics():
    store = WindowStore(retention_s=600, max_metrics=10)
    kept = [store.add(f"metric_{n}", 1.0, 1.0) for n in range(1000)]
    assert sum(kept) == 10
    assert store.sample_count() == 10


def test_a_redelivered_sample_replaces_rather_than_doubles():
    store = WindowStore(retention_s=600)
    store.add("cpu", 10.0, 1.0)
    store.add("cpu", 10.0, 2.0)
    assert store.window("cpu", 0, 20) == [(10.0, 2.0)]


def test_late_samples_are_kept_in_time_order_unless_older_than_retention():
    store = WindowStore(retention_s=600)
    store.add("cpu", 1000.0, 3.0)
    store.add("cpu", 900.0, 1.0)
    store.add("cpu", 950.0, 2.0)
    assert not store.add("cpu", 400.0, 0.0)
    assert store.window("cpu", 0, 2000) == [(900.0, 1.0), (950.0, 2.0), (1000.0, 3.0)]
    assert store.latest("cpu", 960.0) == (950.0, 2.0)


def test_non_finite_samples_are_refused():
    store = WindowStore(retention_s=600)
    assert not store.add("cpu", 1.0, float("nan"))
    assert not store.add("cpu", float("inf"), 1.0)
    assert store.sample_count() == 0


def test_a_push_batch_keeps_every_metric_at_its_timestamp():
    store = WindowStore(retention_s=600)
    store.add_batch(5.0, {"cpu_usage": 65.5, "memory_usage": 78.2})
    assert store.latest("cpu_usage", 5.0) == (5.0, 65.5)
    assert store.latest("memory_usage", 5.0) == (5.0, 78.2)


class PlainWindow:
    """What the store must keep, written the plain way: a sorted list cut at every sample."""

    def __init__(self, retention_s: float, max_samples: int) -> None:
        self.retention_s, self.max_samples = retention_s, max_samples
        self.samples: list[tuple[float, float]] = []

    def add(self, timestamp: float, value: float) -> bool:
        if self.samples and timestamp <= self.samples[-1][0] - self.retention_s:
            return False
        kept = dict(self.samples)
        kept[timestamp] = value
        self.samples = sorted(kept.items())
        newest = self.samples[-1][0]
        self.samples = [s for s in self.samples if s[0] > newest - self.retention_s]
        self.samples = self.samples[-self.max_samples :]
        return True


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 400), st.integers(-5, 5)), min_size=1, max_size=300),
    st.integers(1, 50),
    st.integers(1, 40),
)
def test_the_store_keeps_what_a_plain_sorted_list_keeps(
    feed: list[tuple[int, int]], retention: int, max_samples: int
) -> None:
    """Late, repeated and dense samples: every answer equals the plain model's, while the
    store's lists stay within twice the count it keeps (plus the sample being added)."""
    store = WindowStore(retention_s=float(retention), max_samples_per_metric=max_samples)
    plain = PlainWindow(float(retention), max_samples)
    for step, (timestamp, value) in enumerate(feed):
        assert store.add("cpu", float(timestamp), float(value)) == plain.add(
            float(timestamp), float(value)
        ), step
        assert store.window("cpu", -1.0, 1e9) == plain.samples
        assert store.sample_count() == len(plain.samples)
        probe = float(timestamp) - 3
        expected = [s for s in plain.samples if s[0] <= probe]
        assert store.latest("cpu", probe) == (expected[-1] if expected else None)
        assert len(store._times["cpu"]) <= 2 * len(plain.samples) + 1
