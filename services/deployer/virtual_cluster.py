"""The demo-mode virtual cluster: its nodes (from `cluster_file`) and the pods bound to them, what
each node has allocated, and rollouts. Placing a tenant is in `placement`."""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from services.deployer.cluster_file import ClusterSpec
from services.deployer.scheduling import Load, Node, Workload, workloads_in


class PlacedPod(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    kind: str
    workload: str
    replica: int
    node: str
    cpu_millicores: int
    memory_bytes: int
    gpus: int

    @property
    def name(self) -> str:
        return f"{self.workload}-{self.replica}"


class PendingPod(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    workload: str
    name: str
    reason: str


class PlacementReport(BaseModel):
    """What happened to each pod of one tenant; pods in `placed` only bind when `ok`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    placed: tuple[PlacedPod, ...] = ()
    pending: tuple[PendingPod, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.pending


class ClusterState(BaseModel):
    """Every node and every pod bound to it, for all tenants of one mode."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nodes: tuple[Node, ...]
    pods: tuple[PlacedPod, ...] = ()  # sorted by tenant, workload, replica, kind

    @field_validator("pods")
    @classmethod
    def _sorted(cls, pods: tuple[PlacedPod, ...]) -> tuple[PlacedPod, ...]:
        return tuple(sorted(pods, key=pod_order))

    @classmethod
    def empty(cls, spec: ClusterSpec) -> ClusterState:
        return cls(nodes=tuple(_nodes_of(spec)))

    def tenant_span(self, tenant_id: str) -> tuple[int, int]:
        """Where the tenant's pods are in `pods` (sorted by tenant first): start, end."""
        start = bisect.bisect_left(self.pods, tenant_id, key=_tenant_of)
        return start, bisect.bisect_right(self.pods, tenant_id, lo=start, key=_tenant_of)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClusterState:
        return cls.model_validate(data)


def _nodes_of(spec: ClusterSpec) -> Iterable[Node]:
    for pool in spec.node_pools:
        for index in range(1, pool.nodes + 1):
            name = f"{pool.name}-{index}"
            yield Node(
                name=name,
                pool=pool.name,
                gpu_model=pool.gpu_model,
                labels={**pool.labels, "kubernetes.io/hostname": name},
                taints=pool.taints,
                cpu_millicores=round(pool.cpu * 1000),
                memory_bytes=round(pool.memory_gib * 2**30),
                gpus=pool.gpus_per_node,
                max_pods=pool.max_pods,
            )


def loads_of(pods: Iterable[PlacedPod]) -> dict[str, Load]:
    # Summed in plain integers: this walks every pod of the cluster.
    sums: dict[str, list[int]] = {}
    for pod in pods:
        total = sums.get(pod.node)
        if total is None:
            total = sums[pod.node] = [0, 0, 0, 0]
        total[0] += pod.cpu_millicores
        total[1] += pod.memory_bytes
        total[2] += pod.gpus
        total[3] += 1
    return {node: Load(*total) for node, total in sums.items()}


def _tenant_of(pod: PlacedPod) -> str:
    return pod.tenant_id


def pod_order(pod: PlacedPod) -> tuple[str, str, int, str]:
    return (pod.tenant_id, pod.workload, pod.replica, pod.kind)


class NodeUsage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    node: str
    pool: str
    gpu_model: str | None
    cpu_allocated_millicores: int
    cpu_capacity_millicores: int
    memory_allocated_bytes: int
    memory_capacity_bytes: int
    gpus_allocated: int
    gpus_capacity: int
    pods: int
    tenants: tuple[str, ...]


def usage(state: ClusterState) -> list[NodeUsage]:
    """Requested against capacity, per node in the file's order, for the UI."""
    loads = loads_of(state.pods)
    summary = []
    for node in state.nodes:
        load = loads.get(node.name, Load())
        tenants = sorted({p.tenant_id for p in state.pods if p.node == node.name})
        summary.append(
            NodeUsage(
                node=node.name,
                pool=node.pool,
                gpu_model=node.gpu_model,
                cpu_allocated_millicores=load.cpu_millicores,
                cpu_capacity_millicores=node.cpu_millicores,
                memory_allocated_bytes=load.memory_bytes,
                memory_capacity_bytes=node.memory_bytes,
                gpus_allocated=load.gpus,
                gpus_capacity=node.gpus,
                pods=load.pods,
                tenants=tuple(tenants),
            )
        )
    return summary


class RolloutStep(BaseModel):
    """One replica of one workload becoming ready, `at_seconds` after the rollout began."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at_seconds: float
    kind: str
    workload: str
    ready_replicas: int
    desired_replicas: int
    ready_total: int
    desired_total: int


def rollout_plan(
    objects: Iterable[Mapping[str, Any]],
    seconds_per_replica: float,
    seed: int | None = None,
    *,
    workloads: Sequence[Workload] | None = None,
) -> list[RolloutStep]:
    """When each replica is ready: workloads roll out side by side, replicas one after another.

    Without a seed every replica takes exactly `seconds_per_replica`; with one, each takes
    between half and one and a half of it, drawn from `random.Random(seed)`. `workloads` are
    the objects' (`workloads_in`) when the caller has read them already.
    """
    if not math.isfinite(seconds_per_replica) or seconds_per_replica < 0:
        raise ValueError(f"seconds_per_replica must be >= 0, not {seconds_per_replica}")
    rng = random.Random(seed) if seed is not None else None
    if workloads is None:
        workloads = workloads_in(objects)
    events = []
    for w in workloads:
        at = 0.0
        for ready in range(1, w.replicas + 1):
            at += seconds_per_replica * (rng.uniform(0.5, 1.5) if rng else 1.0)
            events.append((round(at, 3), w.name, w.kind, ready, w.replicas))
    events.sort()
    desired_total = sum(w.replicas for w in workloads)
    return [
        RolloutStep(
            at_seconds=at,
            kind=kind,
            workload=name,
            ready_replicas=ready,
            desired_replicas=desired,
            ready_total=done,
            desired_total=desired_total,
        )
        for done, (at, name, kind, ready, desired) in enumerate(events, start=1)
    ]
