"""The deploy policy: when a manifest deploys by itself, apply order, prune sets, rollback target."""

from __future__ import annotations

import pytest

from services.deployer.kube_target import rollout_state
from services.deployer.policy import (
    apply_steps,
    auto_deployment_id,
    auto_deploys,
    invalid_objects,
    inventory_of,
    merged_inventory,
    rollback_target,
    to_prune,
)
from shared.modes import Mode
from shared.settings import Settings

pytestmark = pytest.mark.unit


def obj(kind: str, name: str, namespace: str | None = "ns", api: str = "v1") -> dict:
    meta = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    return {"apiVersion": api, "kind": kind, "metadata": meta}


TENANT = [
    obj("Namespace", "ns", None),
    obj("ResourceQuota", "quota"),
    obj("LimitRange", "limits"),
    obj("ConfigMap", "settings"),
    obj("NetworkPolicy", "deny"),
    obj("Service", "stt"),
    obj("Deployment", "stt", api="apps/v1"),
    obj("HorizontalPodAutoscaler", "chatbot", api="autoscaling/v2"),
    obj("Deployment", "chatbot", api="apps/v1"),
    obj("Service", "chatbot"),
]


def test_the_tenants_own_setting_wins_over_the_modes_default() -> None:
    settings = Settings(auto_deploy_demo=True, auto_deploy_prod=False)
    assert auto_deploys(None, Mode.demo, settings) is True
    assert auto_deploys(None, Mode.prod, settings) is False
    assert auto_deploys(True, Mode.prod, settings) is True
    assert auto_deploys(False, Mode.demo, settings) is False


def test_the_same_rendered_manifest_names_the_same_deployment() -> None:
    assert auto_deployment_id("acme", 3, "ab" * 32) == auto_deployment_id("acme", 3, "ab" * 32)
    assert auto_deployment_id("acme", 3, "ab" * 32) != auto_deployment_id("acme", 4, "ab" * 32)


def test_namespace_and_quota_come_first_and_each_workload_is_one_step() -> None:
    steps = apply_steps(TENANT)
    assert [s for s, _ in steps] == [
        "namespace",
        "quota",
        "config",
        "workload/chatbot",
        "workload/stt",
    ]
    chatbot = dict(steps)["workload/chatbot"]
    # The Service before its Deployment, the autoscaler after the Deployment it scales.
    assert [o["kind"] for o in chatbot] == ["Service", "Deployment", "HorizontalPodAutoscaler"]


def test_objects_without_a_name_or_repeated_are_refused() -> None:
    assert invalid_objects(TENANT) == []
    assert invalid_objects([]) == ["the manifest has no objects"]
    problems = invalid_objects([obj("Service", "a"), obj("Service", "a"), {"kind": "Service"}])
    assert any("appears twice" in p for p in problems)
    assert any("lacks apiVersion" in p for p in problems)


def test_prune_removes_what_the_new_set_lacks_but_never_the_namespace() -> None:
    before = inventory_of(TENANT)
    after = [o for o in TENANT if o["metadata"]["name"] != "stt"]
    pruned = to_prune(before, after)
    assert [(r.kind, r.name) for r in pruned] == [("Deployment", "stt"), ("Service", "stt")]
    assert to_prune(before, TENANT) == []
    assert all(r.kind != "Namespace" for r in to_prune(before, []))


def test_after_a_failure_the_inventory_keeps_old_and_new_objects() -> None:
    old = inventory_of([obj("Service", "a")])
    applied = inventory_of([obj("Service", "b"), obj("Service", "a")])
    assert [r["name"] for r in merged_inventory(old, applied)] == ["a", "b"]


def test_rollback_goes_to_the_newest_other_successful_revision_or_the_named_one() -> None:
    history = [(3, "failed"), (3, "succeeded"), (2, "failed"), (1, "succeeded")]
    assert rollback_target(history, 3, None) == 1
    assert rollback_target(history, 3, 2) == 2
    assert rollback_target([(1, "succeeded")], 1, None) is None


def deployment(generation: int, **status: int) -> dict:
    return {
        "kind": "Deployment",
        "metadata": {"generation": generation},
        "spec": {"replicas": 2},
        "status": status,
    }


def test_a_rollout_is_done_only_when_the_new_generation_is_updated_and_available() -> None:
    assert rollout_state(deployment(2, observedGeneration=1))[0] is False
    half = deployment(2, observedGeneration=2, replicas=3, updatedReplicas=2, availableReplicas=2)
    assert rollout_state(half)[0] is False  # an old pod is still there
    low = deployment(2, observedGeneration=2, replicas=2, updatedReplicas=2, availableReplicas=1)
    assert rollout_state(low) == (False, "2/2 updated, 1/2 available")
    done = deployment(2, observedGeneration=2, replicas=2, updatedReplicas=2, availableReplicas=2)
    assert rollout_state(done)[0] is True
