"""The demo generator's daily load curve and the samples it gives a demo tenant."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.monitor.demo_load import DEMO_METRICS, DemoTenant, daily_load, demo_metrics, slot_of

pytestmark = pytest.mark.unit

RUNNING = DemoTenant("acme", running=True, preset="small", cpu_millicores=8000, gpus=2)
moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


def kst(hour: int, minute: int = 0) -> datetime:
    """A moment at a Korean local time (UTC+9)."""
    return datetime(2026, 11, 26, hour, minute, tzinfo=UTC) - timedelta(hours=9)


def test_afternoon_peak_is_busier_than_the_night():
    assert daily_load(kst(15)) == 1.0
    assert daily_load(kst(3)) < 0.1
    assert daily_load(kst(10)) > daily_load(kst(12, 30)) > daily_load(kst(20))


def test_load_moves_smoothly_between_hours():
    assert daily_load(kst(8, 30)) == pytest.approx((0.50 + 0.80) / 2)  # between 08:00 and 09:00


@settings(max_examples=200)
@given(moments)
def test_load_is_a_share_of_peak(moment):
    assert 0.0 <= daily_load(moment) <= 1.0


def test_nothing_running_reports_zero():
    stopped = DemoTenant("acme", running=False, cpu_millicores=8000, gpus=2)
    assert demo_metrics(stopped, kst(15), 1, 42, 15) == dict.fromkeys(DEMO_METRICS, 0.0)


@settings(max_examples=200)
@given(moments, st.integers(0, 10**9))
def test_same_seed_tenant_and_slot_give_the_same_samples(moment, seed):
    slot = slot_of(moment, 15)
    assert demo_metrics(RUNNING, moment, slot, seed, 15) == demo_metrics(
        RUNNING, moment, slot, seed, 15
    )


@settings(max_examples=200)
@given(moments, st.integers(0, 1000))
def test_percentages_stay_between_0_and_100(moment, seed):
    values = demo_metrics(RUNNING, moment, slot_of(moment, 15), seed, 15)
    for name in ("cpu_usage", "memory_usage", "gpu_usage"):
        assert 0 <= values[name] <= 100
    assert values["request_count"] >= 0 and values["response_time"] >= 1


def test_slots_and_seeds_vary_the_noise():
    a = demo_metrics(RUNNING, kst(15), 100, 42, 15)
    assert a != demo_metrics(RUNNING, kst(15), 101, 42, 15)
    assert a != demo_metrics(RUNNING, kst(15), 100, 43, 15)


def test_bigger_tenants_serve_more_requests():
    small = DemoTenant("acme", running=True, cpu_millicores=2000)
    large = DemoTenant("acme", running=True, cpu_millicores=40000)
    at = kst(15)
    assert (
        demo_metrics(large, at, 1, 42, 15)["request_count"]
        > 10 * demo_metrics(small, at, 1, 42, 15)["request_count"]
    )


def test_a_tenant_without_gpus_shows_no_gpu_use():
    assert (
        demo_metrics(DemoTenant("acme", running=True, gpus=0), kst(15), 1, 42, 15)["gpu_usage"]
        == 0.0
    )


def test_busy_hours_use_more_cpu_than_quiet_ones():
    busy = [demo_metrics(RUNNING, kst(15), s, 42, 15)["cpu_usage"] for s in range(20)]
    quiet = [demo_metrics(RUNNING, kst(3), s, 42, 15)["cpu_usage"] for s in range(20)]
    assert min(busy) > max(quiet)
