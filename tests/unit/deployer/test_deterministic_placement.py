import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.deployer.cluster_file import load_cluster
from services.deployer.virtual_cluster import ClusterState, place_tenant
from tests.unit.deployer.k8s_objects import deployment

pytestmark = pytest.mark.unit

CLUSTER = ClusterState.empty(load_cluster())

workload = st.builds(
    deployment,
    name=st.sampled_from(["callbot", "chatbot", "advisor", "stt", "tts", "nlp", "aicm"]),
    replicas=st.integers(0, 6),
    cpu=st.sampled_from(["250m", "1", "4", "12"]),
    memory=st.sampled_from(["512Mi", "4Gi", "24Gi"]),
    gpus=st.integers(0, 2),
    tolerate_gpu=st.booleans(),
)
tenant = st.lists(workload, max_size=5, unique_by=lambda d: d["metadata"]["name"])


@settings(max_examples=200, deadline=None)
@given(objects=tenant, order=st.randoms(use_true_random=False))
def test_placement_depends_on_the_objects_not_their_order(objects, order):
    shuffled = list(objects)
    order.shuffle(shuffled)

    assert place_tenant(CLUSTER, "acme", objects) == place_tenant(CLUSTER, "acme", shuffled)


@settings(max_examples=200, deadline=None)
@given(first=tenant, second=tenant)
def test_placed_pods_never_exceed_any_node_capacity(first, second):
    state, _ = place_tenant(CLUSTER, "a", first)
    state, _ = place_tenant(state, "b", second)

    for node in state.nodes:
        pods = [p for p in state.pods if p.node == node.name]
        assert sum(p.cpu_millicores for p in pods) <= node.cpu_millicores
        assert sum(p.memory_bytes for p in pods) <= node.memory_bytes
        assert sum(p.gpus for p in pods) <= node.gpus


@settings(max_examples=200, deadline=None)
@given(objects=tenant)
def test_only_tolerating_pods_land_on_gpu_nodes(objects):
    state, _ = place_tenant(CLUSTER, "acme", objects)

    tolerating = {d["metadata"]["name"] for d in objects if _tolerates(d)}
    tainted = {n.name for n in state.nodes if n.taints}
    assert {p.workload for p in state.pods if p.node in tainted} <= tolerating


def _tolerates(obj):
    return bool(obj["spec"]["template"]["spec"].get("tolerations"))
