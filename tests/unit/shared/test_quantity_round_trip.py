"""Kubernetes quantities parse as the API server reads them and format as the renderer writes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.quantities import (
    QuantityError,
    cpu_millicores,
    format_cpu,
    format_memory,
    memory_mib,
    parse_quantity,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        ("1.5", Decimal("1.5")),
        ("4Gi", Decimal(4 * 2**30)),
        ("128Mi", Decimal(128 * 2**20)),
        ("1k", Decimal(1000)),
        ("1e3", Decimal(1000)),
        (3, Decimal(3)),
    ],
)
def test_valid_quantities_parse_to_base_units(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["2 cores", "1GB", "", "m", "-", "1.2.3", " 1", True, None, [1]])
def test_malformed_quantities_are_refused(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**7))
def test_formatted_cpu_and_memory_parse_back_to_the_same_amount(amount):
    assert cpu_millicores(format_cpu(amount)) == amount
    assert memory_mib(format_memory(amount)) == amount
