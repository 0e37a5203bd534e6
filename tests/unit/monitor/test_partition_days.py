"""Which daily partitions must exist and which are past retention."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.monitor.partitions import (
    DayPartition,
    day_of_partition_name,
    partition_of,
    partitions_expired,
    partitions_wanted,
)

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)


def test_every_day_from_the_retention_cutoff_to_days_ahead_is_wanted():
    wanted = partitions_wanted(NOW, retention_days=30, ahead_days=3)
    assert wanted[0].day == date(2026, 10, 27)
    assert wanted[-1].day == date(2026, 11, 29)
    assert len(wanted) == 34


def test_only_days_wholly_before_the_cutoff_expire():
    days = [DayPartition(date(2026, 10, d)) for d in (25, 26, 27)]
    assert partitions_expired(days, NOW, retention_days=30) == days[:2]


def test_a_partition_spans_one_utc_day():
    part = partition_of(datetime(2026, 11, 26, 23, 59, tzinfo=UTC) + timedelta(hours=9))
    assert part.day == date(2026, 11, 27)
    assert part.end - part.start == timedelta(days=1)
    assert part.name == "monitoring_data_p20261127"


def test_partition_names_read_back_as_days_and_others_are_ignored():
    assert day_of_partition_name("monitoring_data_p20261127") == date(2026, 11, 27)
    assert day_of_partition_name("monitoring_data_p2026112") is None
    assert day_of_partition_name("monitoring_data_p20261341") is None
    assert day_of_partition_name("other_p20261127") is None
