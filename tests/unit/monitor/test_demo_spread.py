"""The demo generator spreads a slot's batches over the slot, and its loop never skips a slot."""

from collections import Counter

import pytest

from services.monitor.background import next_slot_start
from services.monitor.demo_load import SPREAD_SHARE, offset_in_slot

pytestmark = pytest.mark.unit

INTERVAL = 15.0


def test_a_tenants_offset_is_fixed_and_inside_the_spread_part_of_the_slot() -> None:
    offsets = [offset_in_slot(f"t-{n}", INTERVAL) for n in range(1000)]
    assert offsets == [offset_in_slot(f"t-{n}", INTERVAL) for n in range(1000)]
    assert all(0 <= offset < SPREAD_SHARE * INTERVAL for offset in offsets)


def test_a_thousand_tenants_are_spread_evenly_over_the_slot() -> None:
    width = SPREAD_SHARE * INTERVAL / 10
    per_tenth = Counter(int(offset_in_slot(f"t-{n}", INTERVAL) // width) for n in range(1000))
    assert set(per_tenth) == set(range(10))
    assert max(per_tenth.values()) < 150  # 100 each if perfectly even


def test_the_next_run_is_the_next_slots_start() -> None:
    assert next_slot_start(due=30.0, now=31.2, seconds=15.0) == 45.0
    assert next_slot_start(due=37.5, now=38.0, seconds=15.0) == 45.0  # the first, mid-slot


def test_a_run_that_overran_is_followed_at_once_by_the_current_slots() -> None:
    assert next_slot_start(due=30.0, now=46.0, seconds=15.0) == 45.0
    # More than a slot late: the current slot's run, not one for each slot missed.
    assert next_slot_start(due=30.0, now=76.0, seconds=15.0) == 75.0
