import pytest

from services.deployer.cluster_file import (
    DEFAULT_CLUSTER_FILE,
    ClusterFileError,
    load_cluster,
    parse_cluster,
)
from services.deployer.virtual_cluster import ClusterState

pytestmark = pytest.mark.unit

CPU_POOL = {"name": "cpu", "nodes": 1, "cpu": 8, "memory_gib": 32}


def test_default_cluster_file_loads_as_the_modest_demo_cluster():
    spec = load_cluster(DEFAULT_CLUSTER_FILE)
    state = ClusterState.empty(spec)

    assert [n.name for n in state.nodes] == [
        "cpu-1", "cpu-2", "cpu-3", "t4-1", "t4-2", "v100-1", "l40s-1",
    ]  # fmt: skip
    assert {n.gpu_model: n.gpus for n in state.nodes} == {None: 0, "T4": 4, "V100": 2, "L40S": 2}
    cpu_node = state.nodes[0]
    assert (cpu_node.cpu_millicores, cpu_node.memory_bytes) == (32_000, 128 * 2**30)
    t4 = state.nodes[3]
    assert (t4.cpu_millicores, t4.memory_bytes) == (16_000, 64 * 2**30)


def test_default_gpu_pools_are_tainted_and_labelled_with_their_product():
    state = ClusterState.empty(load_cluster())
    for node in state.nodes:
        taints = [(t.key, t.value, t.effect) for t in node.taints]
        if node.gpu_model:
            assert taints == [("nvidia.com/gpu", "present", "NoSchedule")]
            assert node.labels["nvidia.com/gpu.product"]
        else:
            assert taints == []
            assert "nvidia.com/gpu.product" not in node.labels
        assert node.labels["kubernetes.io/hostname"] == node.name
        assert node.labels["node.kubernetes.io/instance-type"]
    products = {n.gpu_model: n.labels.get("nvidia.com/gpu.product") for n in state.nodes}
    assert products["T4"] == "Tesla-T4"


def test_taints_may_be_written_as_mappings_or_as_kubectl_text():
    spec = parse_cluster(
        {
            "node_pools": [
                {
                    **CPU_POOL,
                    "name": "a",
                    "taints": ["dedicated=infra:NoExecute", "spot:NoSchedule"],
                },
                {**CPU_POOL, "name": "b", "taints": [{"key": "k", "effect": "PreferNoSchedule"}]},
            ]
        }
    )
    a, b = spec.node_pools
    assert [(t.key, t.value, t.effect) for t in a.taints] == [
        ("dedicated", "infra", "NoExecute"),
        ("spot", "", "NoSchedule"),
    ]
    assert [(t.key, t.effect) for t in b.taints] == [("k", "PreferNoSchedule")]


def test_an_invalid_pool_is_named_by_its_name_and_field():
    bad = {
        "name": "t4",
        "nodes": 2,
        "cpu": 16,
        "memory_gib": 64,
        "gpu_model": "T4",
        "gpus_per_node": -1,
    }
    with pytest.raises(ClusterFileError, match=r"node pool 't4' gpus_per_node: .*greater than"):
        parse_cluster({"node_pools": [CPU_POOL, bad]}, "cluster.yaml")


def test_a_pool_without_a_name_is_named_by_its_position():
    with pytest.raises(ClusterFileError, match=r"node pool #2 name: Field required"):
        parse_cluster({"node_pools": [CPU_POOL, {"nodes": 1, "cpu": 1, "memory_gib": 1}]})


def test_an_unknown_gpu_model_is_refused():
    pool = {**CPU_POOL, "name": "a100", "gpu_model": "A100", "gpus_per_node": 8}
    with pytest.raises(ClusterFileError, match=r"node pool 'a100' gpu_model"):
        parse_cluster({"node_pools": [pool]})


def test_gpus_without_a_model_are_refused():
    pool = {**CPU_POOL, "name": "gpu", "gpus_per_node": 2}
    with pytest.raises(ClusterFileError, match=r"node pool 'gpu'.*gpu_model and gpus_per_node"):
        parse_cluster({"node_pools": [pool]})


def test_a_malformed_taint_is_refused():
    with pytest.raises(ClusterFileError, match=r"node pool 'cpu' taints"):
        parse_cluster({"node_pools": [{**CPU_POOL, "taints": ["no-effect"]}]})


def test_repeated_pool_names_are_refused():
    with pytest.raises(ClusterFileError, match="node pool names repeat: cpu"):
        parse_cluster({"node_pools": [CPU_POOL, CPU_POOL]})


def test_unknown_keys_and_an_empty_cluster_are_refused():
    with pytest.raises(ClusterFileError, match=r"node pool 'cpu' gpu: Extra inputs"):
        parse_cluster({"node_pools": [{**CPU_POOL, "gpu": "T4"}]})
    with pytest.raises(ClusterFileError, match="node_pools"):
        parse_cluster({"node_pools": []})


def test_a_missing_or_unreadable_file_is_a_cluster_file_error(tmp_path):
    with pytest.raises(ClusterFileError, match=r"missing\.yaml"):
        load_cluster(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("node_pools: [\n", encoding="utf-8")
    with pytest.raises(ClusterFileError, match=r"broken\.yaml"):
        load_cluster(broken)
