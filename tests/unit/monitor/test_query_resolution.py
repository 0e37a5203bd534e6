"""Raw points for short windows, ladder buckets for long ones."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.monitor.buckets import MAX_BUCKETS, resolution_for

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("seconds", [60, 1800, 3600])
def test_an_hour_or_less_is_answered_with_raw_points(seconds):
    assert resolution_for(seconds).raw


@pytest.mark.parametrize(
    ("hours", "bucket"), [(2, 60), (6, 60), (24, 300), (24 * 7, 1800), (24 * 30, 3 * 3600)]
)
def test_long_windows_get_buckets_a_dashboard_reads(hours, bucket):
    resolution = resolution_for(hours * 3600)
    assert (resolution.raw, resolution.bucket_seconds) == (False, bucket)


@settings(max_examples=200)
@given(st.floats(min_value=3600.001, max_value=366 * 86400))
def test_buckets_never_exceed_the_cap(seconds):
    resolution = resolution_for(seconds)
    assert resolution.bucket_seconds is not None
    assert seconds / resolution.bucket_seconds <= MAX_BUCKETS
