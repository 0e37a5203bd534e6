"""Presets as floors, the errors the calculator reports, cloud advice and the explain trail."""

import pytest

from services.calculator.catalogue import Catalogue
from services.calculator.sizing import SizingError, size
from shared.contracts.sizing import SizingRequest

pytestmark = pytest.mark.unit

SCENARIO_A = {"callbot": 100, "chatbot": 200, "advisor": 50, "stt": 100, "tts": 100}
SCENARIO_B = {"callbot": 50, "chatbot": 100, "advisor": 25}


def request(units: dict[str, int], **fields: object) -> SizingRequest:
    return SizingRequest.model_validate({"service_requirements": units, **fields})


def test_a_requested_preset_too_small_is_raised_to_the_load_with_a_warning(
    catalogue: Catalogue,
) -> None:
    result = size(request(SCENARIO_A, preset="small"), catalogue)
    assert result.preset == "medium"
    assert result.preset_requested == "small"
    assert any("'small'" in w and "'medium'" in w for w in result.warnings)
    needed = sum(
        s.requests.cpu_millicores * s.autoscaling.max_replicas
        for s in result.services
        if s.autoscaling
    )
    assert result.quota.cpu_millicores >= needed


def test_a_requested_preset_larger_than_needed_is_kept_as_the_floor(catalogue: Catalogue) -> None:
    result = size(request(SCENARIO_B, preset="large"), catalogue)
    assert result.preset == "large"
    assert result.warnings == []
    assert result.quota.gpu_limit == 32
    assert result.quota.memory_mib >= 262144
    callbot = next(s for s in result.services if s.service == "callbot")
    assert callbot.autoscaling is not None
    assert callbot.autoscaling.min_replicas >= 5


def test_an_unknown_gpu_type_is_an_error(catalogue: Catalogue) -> None:
    with pytest.raises(SizingError) as raised:
        size(request(SCENARIO_B, gpu_type="H100"), catalogue)
    assert raised.value.code == "UNKNOWN_GPU_TYPE"
    assert "H100" in raised.value.reason


def test_a_gpu_type_the_cloud_lacks_is_an_error_naming_both(catalogue: Catalogue) -> None:
    with pytest.raises(SizingError) as raised:
        size(request(SCENARIO_B, gpu_type="T4", cloud="ncp"), catalogue)
    assert raised.value.code == "GPU_NOT_OFFERED"
    assert "ncp" in raised.value.reason
    assert "T4" in raised.value.reason


def test_a_cloud_missing_from_the_catalogue_is_an_error(catalogue: Catalogue) -> None:
    without_ncp = catalogue.model_copy(update={"clouds": {"aws": catalogue.clouds["aws"]}})
    with pytest.raises(SizingError) as raised:
        size(request(SCENARIO_B, cloud="ncp"), without_ncp)
    assert raised.value.code == "UNKNOWN_CLOUD"


def test_auto_on_a_cloud_only_considers_the_gpus_it_sells(catalogue: Catalogue) -> None:
    result = size(request(SCENARIO_B, cloud="ncp"), catalogue)
    assert result.gpu_type == "V100"
    assert result.cost.cloud is not None
    gpu_lines = [i for i in result.cost.cloud.instances if i.gpus]
    assert {i.gpu_model for i in gpu_lines} == {"V100"}
    assert sum(i.count * i.gpus for i in gpu_lines) >= 3
    assert result.cost.cloud.currency == "KRW"
    # 8% of instances, at least 500,000 KRW (small preset tier)
    assert result.cost.cloud.management_fee >= 500_000
    assert result.cost.cloud.total_usd == pytest.approx(result.cost.cloud.total / 1300, abs=0.01)


def test_aws_prices_t4_gpus_on_g4dn_instances(catalogue: Catalogue) -> None:
    result = size(request(SCENARIO_A, cloud="aws"), catalogue)
    assert result.cost.cloud is not None
    gpu_lines = [i for i in result.cost.cloud.instances if i.gpus]
    assert all(i.name.startswith("g4dn.") and i.gpu_model == "T4" for i in gpu_lines)
    assert sum(i.count * i.gpus for i in gpu_lines) >= 6
    cloud = result.cost.cloud
    assert cloud.total == pytest.approx(cloud.instances_total + cloud.management_fee, abs=0.01)


def test_every_traced_figure_has_an_explain_step(catalogue: Catalogue) -> None:
    result = size(request({**SCENARIO_A, "ta": 2, "qa": 4}, cloud="aws"), catalogue)
    figures = {step.figure for step in result.explain}
    expected = {
        "preset", "peak_factor", "gpus.tts", "gpus.nlp", "gpus.aicm", "stt.cores",
        "callbot.replicas", "chatbot.replicas", "advisor.replicas", "stt.replicas",
        "qa.replicas", "ta.replicas", "infrastructure.database.cores", "quota",
        "cost.gpu_monthly", "cost.cpu_monthly", "cost.cloud.aws",
    }  # fmt: skip
    assert expected <= figures
    tts_step = next(s for s in result.explain if s.figure == "gpus.tts")
    assert "with cache" in tts_step.formula


def test_shared_infrastructure_is_in_the_cpu_cost_not_in_the_quota(catalogue: Catalogue) -> None:
    result = size(request({"qa": 1}), catalogue)
    # base cores: nginx 2 + api gateway 4 + database 8 + vector db 6 + auth 3 = 23, no weights
    # qa: a pod carries min(2000m / 10m, 4096Mi / 64Mi) = 64 evaluations and requests
    # max(500m, 64 * 10m = 640m); 1 pod at micro's HPA min 1 -> 23 + 0.64 = 23.64 cores
    assert result.cost.cpu_cores == 23.64
    assert result.quota.cpu_millicores == 2000  # micro floor; the 23 platform cores stay out
    assert {s.service for s in result.services} == {"qa"}
