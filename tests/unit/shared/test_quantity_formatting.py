import pytest

from shared.quantities import (
    format_cpu,
    format_memory,
    format_storage,
    round_up_to_cores,
    round_up_to_gib,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("millicores", "expected"), [(0, "0m"), (500, "500m"), (45000, "45000m"), (128000, "128000m")]
)
def test_cpu_is_written_in_millicores(millicores: int, expected: str) -> None:
    assert format_cpu(millicores) == expected


@pytest.mark.parametrize(
    ("mib", "expected"),
    [(512, "512Mi"), (1024, "1Gi"), (65536, "64Gi"), (1048576, "1Ti"), (1049600, "1025Gi")],
)
def test_memory_uses_the_largest_exact_binary_unit(mib: int, expected: str) -> None:
    assert format_memory(mib) == expected


@pytest.mark.parametrize(("gib", "expected"), [(1024, "1Ti"), (1750, "1750Gi"), (2048, "2Ti")])
def test_storage_is_written_in_gi_or_ti(gib: int, expected: str) -> None:
    assert format_storage(gib) == expected


@pytest.mark.parametrize(
    ("millicores", "expected"), [(0, 0), (1, 1000), (1000, 1000), (1001, 2000)]
)
def test_cpu_rounds_up_to_whole_cores(millicores: int, expected: int) -> None:
    assert round_up_to_cores(millicores) == expected


@pytest.mark.parametrize(("mib", "expected"), [(1, 1024), (1024, 1024), (1025, 2048)])
def test_memory_rounds_up_to_whole_gib(mib: int, expected: int) -> None:
    assert round_up_to_gib(mib) == expected


def test_negative_quantities_are_refused() -> None:
    with pytest.raises(ValueError):
        format_cpu(-1)
    with pytest.raises(ValueError):
        format_memory(-1)
