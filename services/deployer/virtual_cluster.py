"""The demo-mode virtual cluster: node pools from a file, tenants placed all or none, rollouts."""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from services.deployer.scheduling import Load, Node, Taint, choose_node, pods_of, workloads_in

DEFAULT_CLUSTER_FILE = Path(__file__).with_name("virtual-cluster.yaml")
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class ClusterFileError(ValueError):
    """A virtual-cluster description that cannot be used; the message names the bad entry."""


class NodePool(BaseModel):
    """Identical nodes, as a cloud node group would give them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_DNS_LABEL)
    nodes: int = Field(ge=0)
    cpu: float = Field(gt=0, description="cores per node")
    memory_gib: float = Field(gt=0)
    gpu_model: Literal["T4", "V100", "L40S"] | None = None
    gpus_per_node: int = Field(default=0, ge=0)
    max_pods: int = Field(default=110, ge=1)
    labels: dict[str, str] = Field(default_factory=dict)
    taints: tuple[Taint, ...] = ()

    @field_validator("taints", mode="before")
    @classmethod
    def _taints_may_be_written_as_kubectl_does(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        return [_taint_from_text(t) if isinstance(t, str) else t for t in value]

    @model_validator(mode="after")
    def _gpu_model_goes_with_gpus(self) -> NodePool:
        if (self.gpu_model is None) != (self.gpus_per_node == 0):
            raise ValueError("gpu_model and gpus_per_node > 0 must be given together")
        return self


def _taint_from_text(text: str) -> dict[str, str]:
    """`key=value:Effect` or `key:Effect`, the form `kubectl taint` takes."""
    head, sep, effect = text.rpartition(":")
    if not sep:
        raise ValueError(f"taint {text!r} is not key=value:Effect")
    key, _, value = head.partition("=")
    return {"key": key, "value": value, "effect": effect}


class ClusterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "demo"
    node_pools: tuple[NodePool, ...] = Field(min_length=1)

    @field_validator("node_pools")
    @classmethod
    def _pool_names_are_unique(cls, pools: tuple[NodePool, ...]) -> tuple[NodePool, ...]:
        names = [p.name for p in pools]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"node pool names repeat: {', '.join(twice)}")
        return pools


def parse_cluster(data: Any, source: str = "virtual cluster") -> ClusterSpec:
    """Validate an already-parsed description; errors say which pool and field are wrong."""
    try:
        return ClusterSpec.model_validate(data)
    except ValidationError as error:
        problems = [f"{_where(data, e['loc'])}: {e['msg']}" for e in error.errors()]
        raise ClusterFileError(f"{source}: " + "; ".join(problems)) from None


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "node_pools" and isinstance(loc[1], int):
        pools = data.get("node_pools") if isinstance(data, dict) else None
        entry = pools[loc[1]] if isinstance(pools, list) and loc[1] < len(pools) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        label = f"node pool {name!r}" if name else f"node pool #{loc[1] + 1}"
        rest = ".".join(str(part) for part in loc[2:])
        return f"{label} {rest}".strip()
    return ".".join(str(part) for part in loc) or "file"


def load_cluster(path: Path = DEFAULT_CLUSTER_FILE) -> ClusterSpec:
    """Read and validate a virtual-cluster YAML file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ClusterFileError(f"{path}: {error}") from None
    return parse_cluster(data, str(path))


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
        return tuple(sorted(pods, key=_pod_order))

    @classmethod
    def empty(cls, spec: ClusterSpec) -> ClusterState:
        return cls(nodes=tuple(_nodes_of(spec)))

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


def _loads(pods: Iterable[PlacedPod]) -> dict[str, Load]:
    # Summed in plain integers: this walks every pod of the cluster on each placement.
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


def _pod_order(pod: PlacedPod) -> tuple[str, str, int, str]:
    return (pod.tenant_id, pod.workload, pod.replica, pod.kind)


def place_tenant(
    state: ClusterState, tenant_id: str, objects: Iterable[Mapping[str, Any]]
) -> tuple[ClusterState, PlacementReport]:
    """Place every pod of the tenant's objects, replacing its earlier pods, or change nothing.

    Raises WorkloadError when an object cannot be read (a bad quantity, no containers).
    """
    others = tuple(p for p in state.pods if p.tenant_id != tenant_id)
    loads = _loads(others)
    placed: list[PlacedPod] = []
    pending: list[PendingPod] = []
    rule_reasons: dict[tuple[str, str], list[str]] = {}
    for pod in pods_of(workloads_in(objects)):
        node, reason = choose_node(pod, state.nodes, loads, rule_reasons)
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
    # The pods stay sorted by tenant first: the tenant's own go in as one block.
    at = bisect.bisect_left(others, tenant_id, key=lambda p: p.tenant_id)
    pods = (*others[:at], *sorted(placed, key=_pod_order), *others[at:])
    return state.model_copy(update={"pods": pods}), report


def release_tenant(state: ClusterState, tenant_id: str) -> ClusterState:
    """The state without the tenant's pods; releasing an unknown tenant changes nothing."""
    pods = tuple(p for p in state.pods if p.tenant_id != tenant_id)
    return state.model_copy(update={"pods": pods})


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
    loads = _loads(state.pods)
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
    objects: Iterable[Mapping[str, Any]], seconds_per_replica: float, seed: int | None = None
) -> list[RolloutStep]:
    """When each replica is ready: workloads roll out side by side, replicas one after another.

    Without a seed every replica takes exactly `seconds_per_replica`; with one, each takes
    between half and one and a half of it, drawn from `random.Random(seed)`.
    """
    if not math.isfinite(seconds_per_replica) or seconds_per_replica < 0:
        raise ValueError(f"seconds_per_replica must be >= 0, not {seconds_per_replica}")
    rng = random.Random(seed) if seed is not None else None
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
