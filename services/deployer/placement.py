"""Placing a tenant on the virtual cluster: all its pods or none, as kube-scheduler would place
them one by one (`scheduling`), and what placements on one cluster reuse between them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.deployer.scheduling import (
    NO_LOAD,
    Load,
    Node,
    PodSpec,
    Workload,
    least_allocated_score,
    placement_rule_reasons,
    pods_of,
    resource_reasons,
    workloads_in,
)
from services.deployer.virtual_cluster import (
    ClusterState,
    PendingPod,
    PlacedPod,
    PlacementReport,
    loads_of,
    pod_order,
)


@dataclass(frozen=True)
class Candidates:
    """The nodes whose taints and labels admit one workload's pods (in the cluster's order), and
    what the filters said of the others: computed once for all the workload's replicas."""

    nodes: tuple[Node, ...]
    refused: Mapping[str, int]
    node_count: int


def candidates(pod: PodSpec, nodes: Sequence[Node]) -> Candidates:
    refused: Counter[str] = Counter()
    admitted = []
    for node in nodes:
        reasons = placement_rule_reasons(pod, node)
        if reasons:
            refused.update(reasons)
        else:
            admitted.append(node)
    return Candidates(tuple(admitted), refused, len(nodes))


def choose_node(
    pod: PodSpec, among: Candidates, loads: Mapping[str, Load]
) -> tuple[Node | None, str]:
    """The node the pod goes to (the least allocated that has room; by name on a tie), or None
    and the reason the pod stays Pending."""
    best: Node | None = None
    best_key: tuple[int, str] | None = None
    cpu, memory, gpus = pod.cpu_millicores, pod.memory_bytes, pod.gpus
    for node in among.nodes:
        load = loads.get(node.name, NO_LOAD)
        # resource_reasons' checks, inline: this loop runs for every replica on every node.
        if (
            load.pods >= node.max_pods
            or (cpu > 0 and cpu > node.cpu_millicores - load.cpu_millicores)
            or (memory > 0 and memory > node.memory_bytes - load.memory_bytes)
            or (gpus > 0 and gpus > node.gpus - load.gpus)
        ):
            continue
        key = (-least_allocated_score(pod, node, load), node.name)
        if best_key is None or key < best_key:
            best, best_key = node, key
    if best is not None:
        return best, ""
    rejections: Counter[str] = Counter(among.refused)
    for node in among.nodes:
        rejections.update(resource_reasons(pod, node, loads.get(node.name, NO_LOAD)))
    return None, unschedulable_message(among.node_count, rejections)


def unschedulable_message(node_count: int, rejections: Mapping[str, int]) -> str:
    """The FailedScheduling text: `0/7 nodes are available: 3 Insufficient cpu, ...`."""
    if node_count == 0:
        return "no nodes available to schedule pods"
    # kube-scheduler sorts the whole "<count> <reason>" strings, counts included.
    histogram = sorted(f"{count} {reason}" for reason, count in rejections.items())
    return f"0/{node_count} nodes are available: {', '.join(histogram)}."


class PlacementMemo:
    """What the placements on one cluster reuse, so a placement costs what the tenant asks for
    and not what the cluster holds: the nodes that admit each kind of pod by taints and labels,
    and the loads of the state placed on last. The caller serialises the placements."""

    def __init__(self) -> None:
        self._nodes: Sequence[Node] = ()
        self._admitted: dict[tuple[Any, ...], Candidates] = {}
        self._state: ClusterState | None = None
        self._loads: dict[str, Load] = {}

    def admitted(self, pod: PodSpec, nodes: Sequence[Node]) -> Candidates:
        if nodes is not self._nodes:
            self._nodes, self._admitted = nodes, {}
        key = (pod.tolerations, tuple(sorted(pod.node_selector.items())))
        found = self._admitted.get(key)
        if found is None:
            found = self._admitted[key] = candidates(pod, nodes)
        return found

    def loads(self, state: ClusterState) -> dict[str, Load]:
        """The loads of every pod of `state`, for the caller to change."""
        if state is not self._state:
            self._state, self._loads = state, loads_of(state.pods)
        return dict(self._loads)

    def placed(self, state: ClusterState, loads: dict[str, Load]) -> None:
        self._state, self._loads = state, loads


def place_tenant(
    state: ClusterState,
    tenant_id: str,
    objects: Iterable[Mapping[str, Any]],
    memo: PlacementMemo | None = None,
    *,
    workloads: Sequence[Workload] | None = None,
) -> tuple[ClusterState, PlacementReport]:
    """Place every pod of the tenant's objects, replacing its earlier pods, or change nothing.
    `workloads` are the objects' (`workloads_in`) when the caller has read them already.

    Raises WorkloadError when an object cannot be read (a bad quantity, no containers).
    """
    if memo is None:
        memo = PlacementMemo()
    start, end = state.tenant_span(tenant_id)
    loads = memo.loads(state)
    for earlier in state.pods[start:end]:
        loads[earlier.node] = loads[earlier.node].minus(earlier)
    placed: list[PlacedPod] = []
    pending: list[PendingPod] = []
    if workloads is None:
        workloads = workloads_in(objects)
    for pod in pods_of(workloads):
        node, reason = choose_node(pod, memo.admitted(pod, state.nodes), loads)
        if node is None:
            pending.append(
                PendingPod(kind=pod.kind, workload=pod.workload, name=pod.name, reason=reason)
            )
            continue
        loads[node.name] = loads.get(node.name, Load()).plus(pod)
        placed.append(
            PlacedPod(
                tenant_id=tenant_id,
                kind=pod.kind,
                workload=pod.workload,
                replica=pod.replica,
                node=node.name,
                cpu_millicores=pod.cpu_millicores,
                memory_bytes=pod.memory_bytes,
                gpus=pod.gpus,
            )
        )
    report = PlacementReport(tenant_id=tenant_id, placed=tuple(placed), pending=tuple(pending))
    if pending:
        return state, report
    pods = (*state.pods[:start], *sorted(placed, key=pod_order), *state.pods[end:])
    new_state = state.model_copy(update={"pods": pods})
    memo.placed(new_state, loads)
    return new_state, report


def release_tenant(state: ClusterState, tenant_id: str) -> ClusterState:
    """The state without the tenant's pods; releasing an unknown tenant changes nothing."""
    start, end = state.tenant_span(tenant_id)
    return state.model_copy(update={"pods": state.pods[:start] + state.pods[end:]})
