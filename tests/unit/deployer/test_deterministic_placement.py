import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.deployer.cluster_file import load_cluster
from services.deployer.placement import PlacementMemo, place_tenant, release_tenant
from services.deployer.virtual_cluster import ClusterState
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


@settings(max_examples=100, deadline=None)
@given(tenants=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), tenant), max_size=8))
def test_a_memo_kept_between_placements_changes_no_placement(tenants):
    """Placements sharing a memo (as the deployer's do) place exactly as placements without one:
    tenants placed again, placements that fail, and states the memo has not seen included."""
    remembered, fresh = CLUSTER, CLUSTER
    memo = PlacementMemo()
    for index, (tenant_id, objects) in enumerate(tenants):
        if index % 3 == 2:  # a state the memo did not make
            remembered, fresh = release_tenant(remembered, "a"), release_tenant(fresh, "a")
        remembered, with_memo = place_tenant(remembered, tenant_id, objects, memo)
        fresh, without = place_tenant(fresh, tenant_id, objects)
        assert with_memo == without
        assert remembered == fresh


def _tolerates(obj):
    return bool(obj["spec"]["template"]["spec"].get("tolerations"))
