from decimal import Decimal

import pytest

from shared.quantities import (
    QuantityError,
    cpu_millicores,
    memory_bytes,
    memory_mib,
    parse_quantity,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "millicores"),
    [
        ("500m", 500),
        ("2", 2000),
        ("0.5", 500),
        (".25", 250),
        ("5.", 5000),
        ("+1", 1000),
        (1, 1000),
        (0.1, 100),
        ("1k", 1_000_000),
        ("1e3", 1_000_000),
        ("15E-1", 1500),
        ("100u", 1),
        ("1500000n", 2),
        ("0", 0),
    ],
)
def test_cpu_quantities_become_millicores_rounded_up(text, millicores):
    assert cpu_millicores(text) == millicores


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512Mi", 512 * 2**20),
        ("1Gi", 2**30),
        ("1.5Gi", 3 * 2**29),
        ("1Ki", 1024),
        ("1Ti", 2**40),
        ("1Pi", 2**50),
        ("1Ei", 2**60),
        ("1k", 1000),
        ("1M", 10**6),
        ("1G", 10**9),
        ("1T", 10**12),
        ("1P", 10**15),
        ("1E", 10**18),
        ("129e6", 129_000_000),
        ("128974848", 128_974_848),
        ("1500m", 2),
        (1073741824, 2**30),
    ],
)
def test_memory_quantities_become_bytes(text, size):
    assert memory_bytes(text) == size


def test_memory_in_mib_for_summaries():
    assert memory_mib("1Gi") == 1024.0
    assert memory_mib("1536Mi") == 1536.0


def test_exponent_and_exa_suffix_are_told_apart():
    assert parse_quantity("2E") == Decimal(2 * 10**18)
    assert parse_quantity("2E2") == Decimal(200)


@pytest.mark.parametrize(
    "text",
    ["", "abc", "Mi", "1.2.3", "1 Gi", "1mi", "1e", "1KiB", "1Gi2", "--1", True, float("nan")],
)
def test_malformed_quantities_are_refused(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


def test_negative_requests_are_refused():
    with pytest.raises(QuantityError, match="negative"):
        cpu_millicores("-100m")
    with pytest.raises(QuantityError, match="negative"):
        memory_bytes("-1Gi")
