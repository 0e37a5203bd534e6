"""Durations as rules write them, to seconds and back."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.alerts.durations import DurationError, format_duration, parse_duration

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("2w", 1209600.0),
        ("500ms", 0.5),
        ("1h30m", 5400.0),
        (" 5m ", 300.0),
        ("0s", 0.0),
    ],
)
def test_durations_read_as_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("5", "needs a unit"),
        ("1.5m", "fraction"),
        ("5x", "unknown unit 'x'"),
        ("5 m", "not a duration"),
        ("-5m", "not a duration"),
        ("m", "not a duration"),
        ("30m1h", "largest first"),
        ("1m1m", "largest first"),
        ("99999w", "ten years"),
    ],
)
def test_bad_durations_say_what_is_wrong(text, words):
    with pytest.raises(DurationError, match=words):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (0.25, "250ms"), (300, "5m"), (5400, "1h30m"), (691200, "8d"), (90061, "1d1h1m1s")],
)
def test_seconds_format_as_the_shortest_prometheus_duration(seconds, text):
    assert format_duration(seconds) == text


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10 * 365 * 86_400_000))
def test_a_formatted_duration_reads_back_to_the_same_seconds(milliseconds):
    seconds = milliseconds / 1000
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, abs=1e-9)
