"""Buckets as a monitoring answer gives them: rounded, non-finite values as null, each metric's
own list, the bucket's time in ISO form."""

import math
from datetime import UTC, datetime, timedelta

from services.monitor.handlers import bucket_series

START = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_buckets_are_rounded_and_non_finite_values_are_null():
    later = START + timedelta(minutes=5)
    rows = [
        ("cpu_usage", START, 1.23456789, 0.5, 2.0, 1.9999999, 3),
        ("cpu_usage", later, math.nan, None, math.inf, -math.inf, 1),
        ("memory_usage", START, 10.0, 10.0, 10.0, 10.0, 1),
    ]
    series = bucket_series(rows)
    assert series == {
        "cpu_usage": [
            {
                "timestamp": "2026-11-26T10:00:00+00:00",
                "avg": 1.234568,
                "min": 0.5,
                "max": 2.0,
                "p95": 2.0,
                "count": 3,
            },
            {
                "timestamp": "2026-11-26T10:05:00+00:00",
                "avg": None,
                "min": None,
                "max": None,
                "p95": None,
                "count": 1,
            },
        ],
        "memory_usage": [
            {
                "timestamp": "2026-11-26T10:00:00+00:00",
                "avg": 10.0,
                "min": 10.0,
                "max": 10.0,
                "p95": 10.0,
                "count": 1,
            }
        ],
    }
