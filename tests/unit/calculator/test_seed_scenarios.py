"""The seed guide's scenarios, with GPU counts checked by hand against sizing.md's figures."""

import pytest

from services.calculator.catalogue import Catalogue
from services.calculator.sizing import size
from shared.contracts.sizing import SizingRequest

pytestmark = pytest.mark.unit

SCENARIO_A = {"callbot": 100, "chatbot": 200, "advisor": 50, "stt": 100, "tts": 100}
SCENARIO_B = {"callbot": 50, "chatbot": 100, "advisor": 25}


def sized(catalogue: Catalogue, units: dict[str, int], gpu_type: str = "auto"):
    request = SizingRequest.model_validate({"service_requirements": units, "gpu_type": gpu_type})
    return size(request, catalogue)


def gpus_by_role(result) -> dict[str, int]:
    return {role.role: role.gpus for role in result.gpus}


# (a) channels = 100 + 50 + 100 + 100 = 350 (< 500), users 200 (< 2000) -> medium; peak 1.5.
#   TTS  = callbot 100 + tts 100 = 200 channels            -> T4 200/50 = 4;  V100 200/150 -> 2
#   NLP  = 100*3200 + 200*288 + 50*2400 = 497,600 /day
#          / 32,400 s * 1.5 = 23.04 q/s                     -> T4 23.04/150 -> 1; V100 -> 1
#   AICM = 100*480 + 200*24 + 50*1360 = 120,800 /day
#          / 32,400 s * 1.5 = 5.59 q/s                      -> T4 5.59/100 -> 1; V100 -> 1
# (b) channels = 50 + 25 = 75 (< 100), users 100 (< 500) -> small; peak 1.0.
#   TTS  = 50 channels                                      -> T4 50/50 = 1; V100 -> 1
#   NLP  = 50*3200 + 100*288 + 25*2400 = 248,800 / 32,400 = 7.68 q/s  -> 1 on either
#   AICM = 50*480 + 100*24 + 25*1360 = 60,400 / 32,400 = 1.86 q/s     -> 1 on either
# (c) callbot 1000: channels 1000 (> 500) -> large; peak 2.5.
#   TTS  = 1000 channels -> T4 1000/50 = 20
#   NLP  = 3,200,000 / 32,400 * 2.5 = 246.9 q/s -> T4 ceil(246.9/150) = 2
#   AICM = 480,000 / 32,400 * 2.5 = 37.04 q/s   -> T4 1
@pytest.mark.parametrize(
    ("units", "gpu_type", "preset", "expected"),
    [
        (SCENARIO_A, "T4", "medium", {"tts": 4, "nlp": 1, "aicm": 1}),
        (SCENARIO_A, "V100", "medium", {"tts": 2, "nlp": 1, "aicm": 1}),
        (SCENARIO_B, "T4", "small", {"tts": 1, "nlp": 1, "aicm": 1}),
        (SCENARIO_B, "V100", "small", {"tts": 1, "nlp": 1, "aicm": 1}),
        ({"callbot": 1000}, "T4", "large", {"tts": 20, "nlp": 2, "aicm": 1}),
    ],
)
def test_seed_scenarios_get_the_hand_checked_preset_and_gpus(
    catalogue: Catalogue, units: dict[str, int], gpu_type: str, preset: str, expected: dict
) -> None:
    result = sized(catalogue, units, gpu_type)
    assert result.preset == preset
    assert gpus_by_role(result) == expected
    assert result.gpu_type == gpu_type


# Auto compares GPU-hours x price + host servers x host cores x 33.66 USD per core-month:
#   (a) T4   6 GPUs: 6*730*0.35 = 1533.00 + ceil(6/4)=2 servers * 16 * 33.66 = 1077.12 -> 2610.12
#       V100 4 GPUs: 4*730*2.48 = 7241.60 + 2 servers * 32 * 33.66 = 2154.24          -> 9395.84
#       L40S 3 GPUs: 3*730*3.20 = 7008.00 + 2 servers * 32 * 33.66 = 2154.24          -> 9162.24
#   (b) T4   3 GPUs: 3*730*0.35 =  766.50 + 1 server * 16 * 33.66 = 538.56            -> 1305.06
@pytest.mark.parametrize(
    ("units", "expected", "costs"),
    [
        (SCENARIO_A, {"tts": 4, "nlp": 1, "aicm": 1}, ["2610.12", "9395.84", "9162.24"]),
        (SCENARIO_B, {"tts": 1, "nlp": 1, "aicm": 1}, ["1305.06"]),
    ],
)
def test_auto_picks_the_cheapest_gpu_type_and_says_what_it_compared(
    catalogue: Catalogue, units: dict[str, int], expected: dict, costs: list[str]
) -> None:
    result = sized(catalogue, units)
    assert result.gpu_type == "T4"
    assert gpus_by_role(result) == expected
    for cost in costs:
        assert cost in result.gpu_type_reason


def test_scenario_a_sizes_each_service_with_its_port_and_gpu_placement(
    catalogue: Catalogue,
) -> None:
    result = sized(catalogue, SCENARIO_A, "T4")
    by_name = {s.service: s for s in result.services}
    assert sorted(by_name) == sorted(["callbot", "chatbot", "advisor", "stt", "tts", "nlp", "aicm"])
    assert {n: s.port for n, s in by_name.items()} == {
        "callbot": 8080, "chatbot": 8081, "advisor": 8082, "stt": 8083,
        "tts": 8084, "nlp": 8085, "aicm": 8086,
    }  # fmt: skip
    tts = by_name["tts"]
    assert (tts.kind, tts.replicas, tts.autoscaling, tts.requests.gpus) == ("gpu", 4, None, 1)
    assert tts.gpu is not None
    assert tts.gpu.node_selector == {"nvidia.com/gpu.product": "Tesla-T4"}
    assert tts.gpu.tolerations == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    # STT channels = 100 + 2*50 + 100 = 300. A pod carries what fits in its limits:
    # min(2000m / 153.8m = 13, 4096Mi / 512Mi = 8) = 8 channels -> ceil(300 / 8) = 38 pods,
    # each requesting max(500m, 8 * 153.8m = 1231m) and max(1Gi, 8 * 512Mi = 4Gi).
    stt = by_name["stt"]
    assert stt.replicas == 38
    assert (stt.requests.cpu_millicores, stt.requests.memory_mib) == (1231, 4096)
    # callbot: min(2000m / 100m = 20, 4096Mi / 256Mi = 16) = 16 channels a pod -> ceil(100/16) = 7.
    callbot = by_name["callbot"]
    assert callbot.replicas == 7
    assert (callbot.requests.cpu_millicores, callbot.requests.memory_mib) == (1600, 4096)
    assert callbot.autoscaling is not None
    assert (callbot.autoscaling.min_replicas, callbot.autoscaling.max_replicas) == (7, 20)
    assert all(not s.image.endswith(":latest") for s in result.services)


def test_scenario_a_quota_and_storage(catalogue: Catalogue) -> None:
    result = sized(catalogue, SCENARIO_A, "T4")
    # requests at max replicas: callbot/chatbot/advisor 3 * 20 pods * (1600m, 4Gi) = 96,000m, 240Gi;
    # stt 38 * (1231m, 4Gi) = 46,778m, 152Gi; 6 GPU pods * (2000m, 2Gi) = 12,000m, 12Gi
    # -> 154,778m rounded up to whole cores = 155,000m, and 404Gi.
    assert result.quota.cpu_limit == "155000m"
    assert result.quota.memory_limit == "404Gi"
    assert result.quota.gpu_limit == 8  # the medium preset's floor is above the 6 GPU pods
    # users = callbot 100 + chatbot 200 + advisor 50 = 350 -> 5 GiB * 350 = 1750 GiB > 1 TiB
    assert result.quota.storage_limit == "1750Gi"


def test_batch_and_quality_services_get_their_kind_and_schedule(catalogue: Catalogue) -> None:
    result = sized(catalogue, {"ta": 5, "qa": 3})
    by_name = {s.service: s for s in result.services}
    assert by_name["ta"].kind == "batch"
    assert by_name["ta"].schedule == "0 2 * * *"
    assert by_name["ta"].replicas == 2  # ceil(5 * 0.3)
    assert by_name["ta"].autoscaling is None
    assert by_name["qa"].kind == "app"
    assert [g.gpus for g in result.gpus] == [0, 0, 0]
