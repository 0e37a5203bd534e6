"""How the virtual cluster reads workloads, and the filters and the score kube-scheduler applies to a
pod and a node, in spirit (`placement` picks the nodes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.quantities import QuantityError, cpu_millicores, memory_bytes, whole_units

GPU_RESOURCE = "nvidia.com/gpu"
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet"})


class WorkloadError(ValueError):
    """A workload object the virtual cluster cannot read; the message names the object."""


class Taint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class Toleration(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    key: str = ""
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str = ""
    effect: str = ""

    def tolerates(self, taint: Taint) -> bool:
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        return self.operator == "Exists" or self.value == taint.value


class Node(BaseModel):
    """One node of the virtual cluster: what it offers and how it is marked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    pool: str
    gpu_model: str | None = None
    labels: dict[str, str]
    taints: tuple[Taint, ...] = ()
    cpu_millicores: int
    memory_bytes: int
    gpus: int = 0
    max_pods: int = 110


class Requests(Protocol):
    @property
    def cpu_millicores(self) -> int: ...
    @property
    def memory_bytes(self) -> int: ...
    @property
    def gpus(self) -> int: ...


@dataclass(frozen=True)
class Load:
    """What the pods already bound to a node request from it."""

    cpu_millicores: int = 0
    memory_bytes: int = 0
    gpus: int = 0
    pods: int = 0

    def plus(self, pod: Requests) -> Load:
        return Load(
            self.cpu_millicores + pod.cpu_millicores,
            self.memory_bytes + pod.memory_bytes,
            self.gpus + pod.gpus,
            self.pods + 1,
        )

    def minus(self, pod: Requests) -> Load:
        return Load(
            self.cpu_millicores - pod.cpu_millicores,
            self.memory_bytes - pod.memory_bytes,
            self.gpus - pod.gpus,
            self.pods - 1,
        )


NO_LOAD = Load()


@dataclass(frozen=True)
class PodSpec:
    """One replica of a workload, reduced to what scheduling looks at."""

    kind: str
    workload: str
    replica: int
    cpu_millicores: int
    memory_bytes: int
    gpus: int
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.workload}-{self.replica}"


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str
    replicas: int
    template: PodSpec


def workloads_in(objects: Iterable[Mapping[str, Any]]) -> list[Workload]:
    """The Deployments and StatefulSets of a rendered set, sorted by name, with replica counts."""
    flat = list(_flatten(objects))
    floors = _hpa_min_replicas(flat)
    found: list[Workload] = []
    for obj in flat:
        if obj.get("kind") not in WORKLOAD_KINDS:
            continue
        kind, name = obj["kind"], _name_of(obj)
        if any((w.kind, w.name) == (kind, name) for w in found):
            raise WorkloadError(f"{kind} {name!r} appears twice in one set")
        spec = obj.get("spec") or {}
        replicas = spec.get("replicas")
        if replicas is None:
            replicas = floors.get((kind, name), 1)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise WorkloadError(f"{kind} {name!r}: replicas must be a non-negative integer")
        template = ((spec.get("template") or {}).get("spec")) or {}
        found.append(Workload(kind, name, replicas, _pod_template(kind, name, template)))
    return sorted(found, key=lambda w: (w.name, w.kind))


def pods_of(workloads: Iterable[Workload]) -> list[PodSpec]:
    """Every replica to place, in the order they are scheduled: by workload, then index."""
    return [replace(w.template, replica=index) for w in workloads for index in range(w.replicas)]


def _flatten(objects: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for obj in objects:
        if obj.get("kind") == "List":
            yield from _flatten(obj.get("items") or [])
        else:
            yield obj


def _name_of(obj: Mapping[str, Any]) -> str:
    name = (obj.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise WorkloadError(f"{obj.get('kind')} without metadata.name")
    return name


def _hpa_min_replicas(objects: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], int]:
    floors = {}
    for obj in objects:
        if obj.get("kind") != "HorizontalPodAutoscaler":
            continue
        spec = obj.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        # minReplicas defaults to 1 in autoscaling/v2.
        floors[(target.get("kind", ""), target.get("name", ""))] = spec.get("minReplicas", 1)
    return floors


def _pod_template(kind: str, name: str, template: Mapping[str, Any]) -> PodSpec:
    where = f"{kind} {name!r}"
    containers = template.get("containers") or []
    if not containers:
        raise WorkloadError(f"{where}: the pod template has no containers")
    try:
        main = [_requests_of(c) for c in containers]
        init = [_requests_of(c) for c in template.get("initContainers") or []]
        tolerations = tuple(Toleration.model_validate(t) for t in template.get("tolerations") or [])
    except (QuantityError, ValidationError) as error:
        raise WorkloadError(f"{where}: {error}") from error
    # Init containers run one at a time before the others, so the pod needs the larger of both.
    cpu, memory, gpus = (
        max(sum(r[i] for r in main), max((r[i] for r in init), default=0)) for i in range(3)
    )
    selector = {str(k): str(v) for k, v in (template.get("nodeSelector") or {}).items()}
    return PodSpec(kind, name, 0, cpu, memory, gpus, selector, tolerations)


def _requests_of(container: Mapping[str, Any]) -> tuple[int, int, int]:
    resources = container.get("resources") or {}
    # A resource with a limit and no request is requested at its limit, as the API server does.
    wanted = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
    label = f"container {container.get('name', '?')!r}"
    try:
        return (
            cpu_millicores(wanted.get("cpu", 0)),
            memory_bytes(wanted.get("memory", 0)),
            whole_units(wanted.get(GPU_RESOURCE, 0)),
        )
    except QuantityError as error:
        raise QuantityError(f"{label}: {error}") from error


def placement_rule_reasons(pod: PodSpec, node: Node) -> list[str]:
    """The filters that look at the node's taints and labels only, not at what runs there."""
    # The filters run in the default plugin order and stop at the first that rejects.
    for taint in node.taints:
        if taint.effect == "PreferNoSchedule":
            continue
        if not any(t.tolerates(taint) for t in pod.tolerations):
            return [f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"]
    if any(node.labels.get(k) != v for k, v in pod.node_selector.items()):
        return ["node(s) didn't match Pod's node affinity/selector"]
    return []


def resource_reasons(pod: PodSpec, node: Node, load: Load) -> list[str]:
    reasons = []
    if load.pods + 1 > node.max_pods:
        reasons.append("Too many pods")
    wanted_free = (
        ("cpu", pod.cpu_millicores, node.cpu_millicores - load.cpu_millicores),
        ("memory", pod.memory_bytes, node.memory_bytes - load.memory_bytes),
        (GPU_RESOURCE, pod.gpus, node.gpus - load.gpus),
    )
    return reasons + [f"Insufficient {name}" for name, want, free in wanted_free if 0 < want > free]


def least_allocated_score(pod: PodSpec, node: Node, load: Load) -> int:
    """0..100, higher for a node left emptier in CPU and memory (the default scoring)."""
    cpu_free = node.cpu_millicores - load.cpu_millicores - pod.cpu_millicores
    memory_free = node.memory_bytes - load.memory_bytes - pod.memory_bytes
    cpu = cpu_free * 100 // node.cpu_millicores if node.cpu_millicores else 0
    memory = memory_free * 100 // node.memory_bytes if node.memory_bytes else 0
    return (cpu + memory) // 2
