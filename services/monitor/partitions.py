"""Daily partitions of the samples table: which days must exist, which are past retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

TABLE = "monitoring_data"


@dataclass(frozen=True, order=True)
class DayPartition:
    day: date

    @property
    def name(self) -> str:
        return f"{TABLE}_p{self.day:%Y%m%d}"

    @property
    def start(self) -> datetime:
        return datetime.combine(self.day, time(), UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=1)


def partition_of(moment: datetime) -> DayPartition:
    return DayPartition(moment.astimezone(UTC).date())


def day_of_partition_name(name: str) -> date | None:
    """The day a partition table holds, or None for a table that is not one of ours."""
    prefix = f"{TABLE}_p"
    if not name.startswith(prefix) or len(name) != len(prefix) + 8:
        return None
    try:
        return datetime.strptime(name[len(prefix) :], "%Y%m%d").date()
    except ValueError:
        return None


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Samples older than this are not kept (and not accepted)."""
    return now - timedelta(days=retention_days)


def partitions_wanted(now: datetime, retention_days: int, ahead_days: int) -> list[DayPartition]:
    """Every day from the retention cutoff through `ahead_days` after today, so any sample the
    gateway accepts (not older than retention, not far in the future) has a partition."""
    first = partition_of(retention_cutoff(now, retention_days)).day
    last = partition_of(now).day + timedelta(days=ahead_days)
    return [DayPartition(first + timedelta(days=n)) for n in range((last - first).days + 1)]


def partitions_expired(
    existing: list[DayPartition], now: datetime, retention_days: int
) -> list[DayPartition]:
    """Partitions whose whole day lies before the retention cutoff."""
    cutoff = retention_cutoff(now, retention_days)
    return sorted(p for p in existing if p.end <= cutoff)
