import json

import pytest

from services.deployer.cluster_file import load_cluster
from services.deployer.placement import place_tenant, release_tenant
from services.deployer.scheduling import WorkloadError, workloads_in
from services.deployer.virtual_cluster import ClusterState, usage
from tests.unit.deployer.k8s_objects import deployment, hpa, resource_quota

pytestmark = pytest.mark.unit

T4 = {"nvidia.com/gpu.product": "Tesla-T4"}
V100 = {"nvidia.com/gpu.product": "Tesla-V100-SXM2-32GB"}


@pytest.fixture
def cluster() -> ClusterState:
    return ClusterState.empty(load_cluster())


def nodes_of(state, tenant_id):
    return {p.name: p.node for p in state.pods if p.tenant_id == tenant_id}


def test_a_tenant_that_fits_is_placed(cluster):
    objects = [
        deployment("callbot", replicas=2, cpu="2", memory="4Gi"),
        deployment(
            "tts", replicas=1, cpu="1", memory="2Gi", gpus=1, tolerate_gpu=True, selector=T4
        ),
        resource_quota(),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "callbot"}},
    ]
    state, report = place_tenant(cluster, "acme", objects)

    assert report.ok
    assert report.pending == ()
    assert nodes_of(state, "acme") == {"callbot-0": "cpu-1", "callbot-1": "cpu-2", "tts-0": "t4-1"}
    assert [p.name for p in report.placed] == ["callbot-0", "callbot-1", "tts-0"]
    tts = next(p for p in state.pods if p.workload == "tts")
    assert (tts.cpu_millicores, tts.memory_bytes, tts.gpus) == (1000, 2 * 2**30, 1)


def test_a_tenant_needing_more_gpus_than_the_cluster_has_leaves_the_state_unchanged(cluster):
    before, _ = place_tenant(cluster, "first", [deployment("web", replicas=1)])
    nlp = deployment("nlp", replicas=13, cpu="1", memory="2Gi", gpus=1, tolerate_gpu=True)

    after, report = place_tenant(before, "greedy", [nlp])

    assert after == before
    assert not report.ok
    assert [(p.name, p.reason) for p in report.pending] == [
        ("nlp-12", "0/7 nodes are available: 7 Insufficient nvidia.com/gpu.")
    ]
    assert len(report.placed) == 12


def test_a_gpu_pod_without_toleration_reports_taints_and_missing_gpus(cluster):
    state, report = place_tenant(cluster, "acme", [deployment("stt", gpus=1)])

    assert state == cluster
    assert report.pending[0].reason == (
        "0/7 nodes are available: 3 Insufficient nvidia.com/gpu, "
        "4 node(s) had untolerated taint {nvidia.com/gpu: present}."
    )


def test_reasons_are_sorted_as_whole_strings_like_kube_scheduler(cluster):
    huge = deployment("db", cpu="20", memory="8Gi", replicas=4)
    _, report = place_tenant(cluster, "acme", [huge])

    assert [(p.name, p.reason) for p in report.pending] == [
        (
            "db-3",
            "0/7 nodes are available: 3 Insufficient cpu, "
            "4 node(s) had untolerated taint {nvidia.com/gpu: present}.",
        )
    ]


def test_tolerating_cpu_pods_may_use_gpu_nodes_when_cpu_nodes_are_full(cluster):
    huge = deployment("db", cpu="20", memory="8Gi", replicas=4, tolerate_gpu=True)
    state, report = place_tenant(cluster, "acme", [huge])

    assert report.ok
    # t4 nodes have 16 cores; of the two 32-core GPU nodes the name breaks the tie.
    assert nodes_of(state, "acme")["db-3"] == "l40s-1"


def test_cpu_pods_never_land_on_gpu_nodes_without_toleration(cluster):
    state, report = place_tenant(cluster, "acme", [deployment("chatbot", replicas=60, cpu="1")])

    assert report.ok
    assert set(nodes_of(state, "acme").values()) == {"cpu-1", "cpu-2", "cpu-3"}


def test_gpu_pods_go_only_to_nodes_with_the_requested_product(cluster):
    objects = [
        deployment("tts", replicas=3, gpus=1, tolerate_gpu=True, selector=T4),
        deployment("nlp", replicas=2, gpus=1, tolerate_gpu=True, selector=V100),
    ]
    state, _ = place_tenant(cluster, "acme", objects)

    placed = nodes_of(state, "acme")
    assert {placed[f"tts-{i}"] for i in range(3)} <= {"t4-1", "t4-2"}
    assert placed["nlp-0"] == placed["nlp-1"] == "v100-1"


def test_a_product_no_node_carries_keeps_the_pod_pending(cluster):
    a100 = deployment("nlp", gpus=1, tolerate_gpu=True, selector={"nvidia.com/gpu.product": "A100"})
    _, report = place_tenant(cluster, "acme", [a100])

    assert report.pending[0].reason == (
        "0/7 nodes are available: 7 node(s) didn't match Pod's node affinity/selector."
    )


def test_capacity_used_by_one_tenant_is_seen_by_the_next_and_freed_on_release(cluster):
    first, _ = place_tenant(
        cluster, "a", [deployment("tts", 8, gpus=1, tolerate_gpu=True, selector=T4)]
    )
    wants_t4 = [deployment("tts", gpus=1, tolerate_gpu=True, selector=T4)]

    unchanged, report = place_tenant(first, "b", wants_t4)
    assert unchanged == first
    assert report.pending[0].reason == (
        "0/7 nodes are available: 2 Insufficient nvidia.com/gpu, "
        "5 node(s) didn't match Pod's node affinity/selector."
    )

    released = release_tenant(first, "a")
    assert released.pods == ()
    placed, report = place_tenant(released, "b", wants_t4)
    assert report.ok
    assert nodes_of(placed, "b") == {"tts-0": "t4-1"}


def test_a_new_revision_replaces_the_tenants_pods(cluster):
    first, _ = place_tenant(cluster, "acme", [deployment("stt", replicas=3)])
    second, report = place_tenant(first, "acme", [deployment("stt", replicas=1, cpu="2")])

    assert report.ok
    assert [(p.name, p.cpu_millicores) for p in second.pods] == [("stt-0", 2000)]


def test_a_revision_that_does_not_fit_keeps_the_previous_one_running(cluster):
    first, _ = place_tenant(cluster, "acme", [deployment("stt", replicas=3)])
    second, report = place_tenant(first, "acme", [deployment("stt", replicas=1, cpu="64")])

    assert not report.ok
    assert second == first


def test_a_tenant_re_placing_itself_can_reuse_its_own_capacity(cluster):
    all_t4 = [deployment("tts", 8, gpus=1, tolerate_gpu=True, selector=T4)]
    first, _ = place_tenant(cluster, "acme", all_t4)
    second, report = place_tenant(first, "acme", all_t4)

    assert report.ok
    assert second == first


def test_replicas_come_from_the_hpa_when_the_deployment_has_none(cluster):
    objects = [deployment("callbot", replicas=None), hpa("callbot", min_replicas=3)]
    state, _ = place_tenant(cluster, "acme", objects)

    assert sorted(nodes_of(state, "acme")) == ["callbot-0", "callbot-1", "callbot-2"]


def test_a_deployment_without_replicas_or_hpa_runs_one_replica(cluster):
    state, _ = place_tenant(cluster, "acme", [deployment("callbot", replicas=None)])
    assert list(nodes_of(state, "acme")) == ["callbot-0"]


def test_limits_stand_in_for_missing_requests_and_init_containers_take_the_max(cluster):
    obj = deployment("stt", cpu="500m", memory="1Gi")
    pod = obj["spec"]["template"]["spec"]
    pod["containers"].append(
        {"name": "gpu", "resources": {"limits": {"nvidia.com/gpu": "2", "cpu": "1"}}}
    )
    pod["initContainers"] = [{"name": "fetch", "resources": {"requests": {"memory": "3Gi"}}}]
    pod["tolerations"] = [{"operator": "Exists"}]

    state, _ = place_tenant(cluster, "acme", [obj])

    (placed,) = state.pods
    assert (placed.cpu_millicores, placed.memory_bytes, placed.gpus) == (1500, 3 * 2**30, 2)


def test_an_unreadable_workload_is_an_error_naming_it(cluster):
    with pytest.raises(WorkloadError, match=r"Deployment 'stt': container 'stt': .*'lots'"):
        place_tenant(cluster, "acme", [deployment("stt", cpu="lots")])


def test_a_workload_rendered_twice_is_an_error(cluster):
    with pytest.raises(WorkloadError, match="Deployment 'stt' appears twice"):
        place_tenant(cluster, "acme", [deployment("stt"), deployment("stt", replicas=2)])


def test_placement_is_the_same_for_the_same_input_in_any_order(cluster):
    objects = [
        deployment("chatbot", replicas=5, cpu="3", memory="6Gi"),
        deployment("advisor", replicas=4, cpu="2", memory="8Gi"),
        deployment("tts", replicas=5, gpus=1, tolerate_gpu=True),
        hpa("chatbot", 2),
    ]
    one, report_one = place_tenant(cluster, "acme", objects)
    two, report_two = place_tenant(cluster, "acme", list(reversed(objects)))

    assert one == two
    assert report_one == report_two
    assert one.to_dict() == two.to_dict()


def test_state_survives_a_json_round_trip_and_keeps_counting_capacity(cluster):
    state, _ = place_tenant(
        cluster, "a", [deployment("tts", 7, gpus=1, tolerate_gpu=True, selector=T4)]
    )
    state, _ = place_tenant(state, "b", [deployment("web", 2)])

    restored = ClusterState.from_dict(json.loads(json.dumps(state.to_dict())))

    assert restored == state
    more = [deployment("tts", 2, gpus=1, tolerate_gpu=True, selector=T4)]
    _, report = place_tenant(restored, "c", more)
    assert [p.name for p in report.pending] == ["tts-1"]


def test_usage_shows_allocated_against_capacity_per_node(cluster):
    objects = [
        deployment("tts", replicas=2, cpu="2", memory="4Gi", gpus=2, tolerate_gpu=True, selector=T4)
    ]
    state, _ = place_tenant(cluster, "acme", objects)
    state, _ = place_tenant(state, "beta", [deployment("web", cpu="250m", memory="512Mi")])

    rows = {row.node: row for row in usage(state)}

    assert list(rows) == ["cpu-1", "cpu-2", "cpu-3", "t4-1", "t4-2", "v100-1", "l40s-1"]
    t4 = rows["t4-1"]
    assert (t4.gpus_allocated, t4.gpus_capacity, t4.pods, t4.tenants) == (2, 4, 1, ("acme",))
    assert (t4.cpu_allocated_millicores, t4.cpu_capacity_millicores) == (2000, 16_000)
    assert (t4.memory_allocated_bytes, t4.memory_capacity_bytes) == (4 * 2**30, 64 * 2**30)
    assert (rows["cpu-1"].cpu_allocated_millicores, rows["cpu-1"].tenants) == (250, ("beta",))
    assert rows["v100-1"].pods == 0


def test_pods_stay_in_order_whatever_order_they_were_read_in(cluster):
    """Placement inserts a tenant's pods as one block, so the state must come in sorted."""
    objects = [deployment("callbot", replicas=2, cpu="1", memory="1Gi")]
    state = cluster
    for tenant_id in ("b", "d", "f"):
        state, _ = place_tenant(state, tenant_id, objects)
    stored = state.model_dump(mode="json")
    loaded = ClusterState.model_validate({**stored, "pods": list(reversed(stored["pods"]))})
    assert loaded == state
    for tenant_id in ("a", "d", "e", "g"):
        placed, report = place_tenant(loaded, tenant_id, objects)
        assert report.ok
        keys = [(p.tenant_id, p.workload, p.replica, p.kind) for p in placed.pods]
        assert keys == sorted(keys)


def test_workloads_read_by_the_caller_place_as_the_objects_do(cluster: ClusterState) -> None:
    objects = [deployment("stt", replicas=3, gpus=1), deployment("web", replicas=2)]
    given = place_tenant(cluster, "acme", objects, workloads=workloads_in(objects))
    assert given == place_tenant(cluster, "acme", objects)
