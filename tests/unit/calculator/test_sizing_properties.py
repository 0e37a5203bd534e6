"""Properties of the sizing model over any load: monotone, exact at zero, deterministic, covered."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.calculator.catalogue import default_catalogue_path, load_catalogue
from services.calculator.sizing import size
from shared.contracts.sizing import SizingRequest, SizingResult
from shared.contracts.tenants import SERVICE_NAMES

pytestmark = pytest.mark.unit

SHIPPED = load_catalogue(default_catalogue_path())

units = st.one_of(st.just(0), st.integers(1, 300), st.integers(0, 100_000))
requirements = st.fixed_dictionaries({name: units for name in SERVICE_NAMES})
# GPU type and cloud pairs the catalogue can serve (ncp sells only V100).
targets = st.sampled_from(
    [("auto", None), ("T4", None), ("V100", None), ("L40S", None),
     ("auto", "aws"), ("T4", "aws"), ("V100", "aws"), ("auto", "ncp"), ("V100", "ncp")]
)  # fmt: skip
presets = st.sampled_from([None, "micro", "small", "medium", "large"])


def sized(reqs: dict[str, int], target: tuple[str, Any], preset: Any = None) -> SizingResult:
    gpu_type, cloud = target
    request = SizingRequest.model_validate(
        {"service_requirements": reqs, "gpu_type": gpu_type, "cloud": cloud, "preset": preset}
    )
    return size(request, SHIPPED)


def measures(result: SizingResult) -> dict[str, float]:
    figures: dict[str, float] = {f"gpus.{role.role}": role.gpus for role in result.gpus}
    figures |= {
        "requests.cpu": result.total_requests.cpu_millicores,
        "requests.memory": result.total_requests.memory_mib,
        "limits.cpu": result.total_limits.cpu_millicores,
        "limits.memory": result.total_limits.memory_mib,
        "quota.cpu": result.quota.cpu_millicores,
        "quota.memory": result.quota.memory_mib,
        "quota.gpus": result.quota.gpu_limit,
        "quota.storage": result.quota.storage_gib,
        "cost.cpu_cores": result.cost.cpu_cores,
        "cost.total": result.cost.total_monthly,
    }
    if result.cost.cloud is not None:
        figures["cloud.total_usd"] = result.cost.cloud.total_usd
    return figures


@settings(max_examples=200, deadline=None)
@given(
    base=requirements,
    service=st.sampled_from(SERVICE_NAMES),
    more=st.integers(1, 50_000),
    target=targets,
    preset=presets,
)
def test_more_load_never_yields_fewer_gpus_cores_memory_or_cost(
    base: dict[str, int], service: str, more: int, target: tuple[str, Any], preset: Any
) -> None:
    bigger = {**base, service: min(base[service] + more, 100_000)}
    before, after = measures(sized(base, target, preset)), measures(sized(bigger, target, preset))
    for name, value in before.items():
        assert after[name] >= value, f"{name} fell from {value} to {after[name]}"


@settings(max_examples=200, deadline=None)
@given(reqs=requirements, target=targets)
def test_a_role_without_load_has_no_gpus_and_no_workload(
    reqs: dict[str, int], target: tuple[str, Any]
) -> None:
    result = sized(reqs, target)
    assert [role.role for role in result.gpus] == ["tts", "nlp", "aicm"]
    workloads = {s.service: s for s in result.services}
    for role in result.gpus:
        if role.load == 0:
            assert role.gpus == 0
            assert role.role not in workloads
        else:
            assert role.gpus >= 1
            assert workloads[role.role].replicas == role.gpus


@settings(max_examples=200, deadline=None)
@given(reqs=requirements, target=targets, preset=presets)
def test_identical_input_gives_an_identical_result(
    reqs: dict[str, int], target: tuple[str, Any], preset: Any
) -> None:
    assert sized(reqs, target, preset) == sized(dict(reqs), target, preset)


@settings(max_examples=200, deadline=None)
@given(reqs=requirements, target=targets, preset=presets)
def test_the_quota_covers_every_service_at_its_max_replicas(
    reqs: dict[str, int], target: tuple[str, Any], preset: Any
) -> None:
    result = sized(reqs, target, preset)
    floor = SHIPPED.preset(result.preset).limits
    cpu = memory = gpus = 0
    for service in result.services:
        pods = service.autoscaling.max_replicas if service.autoscaling else service.replicas
        cpu += service.requests.cpu_millicores * pods
        memory += service.requests.memory_mib * pods
        gpus += service.requests.gpus * pods
    assert result.quota.cpu_millicores >= max(cpu, floor.cpu_millicores)
    assert result.quota.memory_mib >= max(memory, floor.memory_mib)
    assert result.quota.gpu_limit >= max(gpus, floor.gpus)
    assert result.quota.gpu_limit == max(gpus, floor.gpus)
