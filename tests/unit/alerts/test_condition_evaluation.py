"""Conditions evaluated against a tenant's recent samples, with a clock passed in."""

import pytest

from services.alerts.condition_parser import parse_condition
from services.alerts.conditions import WindowFunction
from services.alerts.verdicts import Verdict, evaluate, operand_value
from services.alerts.windows import WindowStore

pytestmark = pytest.mark.unit

T0 = 1_700_000_000.0


def store_with(**series: list[tuple[float, float]]) -> WindowStore:
    store = WindowStore(retention_s=7200)
    for metric, samples in series.items():
        for offset, value in samples:
            store.add(metric, T0 + offset, value)
    return store


def verdict(text: str, store: WindowStore, at: float, **kwargs: float) -> Verdict:
    return evaluate(parse_condition(text), store, T0 + at, **kwargs)


def test_a_plain_metric_compares_its_latest_sample():
    store = store_with(cpu=[(0, 90), (10, 70)])
    assert verdict("cpu > 80", store, 5) is Verdict.TRUE
    assert verdict("cpu > 80", store, 15) is Verdict.FALSE


def test_a_plain_metric_older_than_stale_after_has_no_data():
    store = store_with(cpu=[(0, 90)])
    assert verdict("cpu > 80", store, 300) is Verdict.TRUE
    assert verdict("cpu > 80", store, 301) is Verdict.NO_DATA
    assert verdict("cpu > 80", store, 301, stale_after_s=600) is Verdict.TRUE


def test_a_metric_never_seen_or_only_seen_in_the_future_has_no_data():
    store = store_with(cpu=[(100, 90)])
    assert verdict("gpu > 1", store, 100) is Verdict.NO_DATA
    assert verdict("cpu > 1", store, 50) is Verdict.NO_DATA


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("avg(cpu[1m]) == 20", Verdict.TRUE),
        ("max(cpu[1m]) == 30", Verdict.TRUE),
        ("min(cpu[1m]) == 10", Verdict.TRUE),
        ("sum(cpu[1m]) == 60", Verdict.TRUE),
        ("count(cpu[1m]) == 3", Verdict.TRUE),
        ("last(cpu[1m]) == 10", Verdict.TRUE),
        ("count(cpu[5m]) == 5", Verdict.TRUE),
    ],
)
def test_window_functions_read_only_samples_inside_the_window(text, expected):
    # Samples at -120 (outside a 1m window), then -60 (on its open edge: outside), -30, -10, 0.
    store = store_with(cpu=[(-120, 99), (-60, 99), (-30, 20), (-10, 30), (0, 10)])
    assert verdict(text, store, 0) is expected


def test_a_window_function_over_an_empty_window_has_no_data():
    store = store_with(cpu=[(0, 90)])
    assert verdict("avg(cpu[1m]) > 1", store, 61) is Verdict.NO_DATA
    assert verdict("count(cpu[1m]) == 0", store, 61) is Verdict.NO_DATA


def test_rate_is_the_per_second_increase_and_survives_a_counter_reset():
    rate = WindowFunction("rate", "requests", 120.0)
    steady = store_with(requests=[(0, 100), (60, 220)])
    assert operand_value(rate, steady, T0 + 60, 300) == 2.0
    # 100 -> 160 is +60; the drop to 10 is a restart from zero, so +10 more, over 60 s.
    restarted = store_with(requests=[(0, 100), (30, 160), (60, 10)])
    assert operand_value(rate, restarted, T0 + 60, 300) == pytest.approx(70 / 60)


def test_rate_needs_two_samples():
    store = store_with(requests=[(0, 100)])
    assert verdict("rate(requests[2m]) >= 0", store, 10) is Verdict.NO_DATA


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("missing > 1 and cpu > 100", Verdict.FALSE),
        ("missing > 1 and cpu > 1", Verdict.NO_DATA),
        ("missing > 1 or cpu > 1", Verdict.TRUE),
        ("missing > 1 or cpu > 100", Verdict.NO_DATA),
        ("not missing > 1", Verdict.NO_DATA),
        ("not cpu > 100", Verdict.TRUE),
        ("cpu > 1 and gpu > 1", Verdict.TRUE),
        ("cpu > 100 or gpu > 100", Verdict.FALSE),
    ],
)
def test_and_or_not_follow_three_valued_logic_with_no_data(text, expected):
    store = store_with(cpu=[(0, 50)], gpu=[(0, 50)])
    assert verdict(text, store, 0) is expected
