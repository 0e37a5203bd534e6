"""What a parsed manifest holds: its workloads, their pods and replica counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.manifest.report import Document, Path
from shared.quantities import QuantityError, parse_quantity

# Where each workload kind keeps its pod template.
POD_TEMPLATE_PATHS: dict[str, Path] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
GPU_RESOURCE = "nvidia.com/gpu"


def dig(obj: Any, path: Path) -> Any:
    for part in path:
        if isinstance(part, str) and isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(part, int) and isinstance(obj, list) and part < len(obj):
            obj = obj[part]
        else:
            return None
    return obj


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass
class Workload:
    doc: Document
    kind: str
    namespace: str
    name: str
    template_path: Path
    hpa_min: int | None = None  # set when an HPA scales this workload
    hpa_max: int | None = None

    @property
    def pod_labels(self) -> dict[str, Any]:
        return as_dict(dig(self.doc.obj, (*self.template_path, "metadata", "labels")))

    @property
    def pod_spec_path(self) -> Path:
        return (*self.template_path, "spec")

    @property
    def containers(self) -> list[tuple[Path, dict[str, Any]]]:
        listed = as_list(dig(self.doc.obj, (*self.pod_spec_path, "containers")))
        return [
            ((*self.pod_spec_path, "containers", i), c)
            for i, c in enumerate(listed)
            if isinstance(c, dict)
        ]

    @property
    def replicas(self) -> int:
        """Pods at rest: the HPA minimum when scaled, else the declared count (default 1)."""
        if self.hpa_min is not None:
            return self.hpa_min
        key = "parallelism" if self.kind in ("Job", "CronJob") else "replicas"
        spec_path = ("spec", "jobTemplate", "spec") if self.kind == "CronJob" else ("spec",)
        declared = dig(self.doc.obj, (*spec_path, key))
        return declared if isinstance(declared, int) and not isinstance(declared, bool) else 1

    @property
    def max_replicas(self) -> int:
        return self.hpa_max if self.hpa_max is not None else self.replicas

    def pod_requests(self) -> dict[str, float]:
        """Per-pod requests in base units; a request given only as a limit counts as requested."""
        totals: dict[str, float] = {}
        for _, container in self.containers:
            resources = as_dict(container.get("resources"))
            asked = {**as_dict(resources.get("limits")), **as_dict(resources.get("requests"))}
            for name, value in asked.items():
                try:
                    totals[name] = totals.get(name, 0.0) + float(parse_quantity(value))
                except QuantityError:
                    continue  # reported by the quantity check
        return totals


@dataclass
class Inventory:
    workloads: list[Workload] = field(default_factory=list)
    by_kind: dict[str, list[Document]] = field(default_factory=dict)

    def workload(self, namespace: str, kind: str, name: str) -> Workload | None:
        for workload in self.workloads:
            if (workload.namespace, workload.kind, workload.name) == (namespace, kind, name):
                return workload
        return None

    def of_kind(self, kind: str) -> list[Document]:
        return self.by_kind.get(kind, [])


def namespace_of(doc: Document) -> str:
    namespace = dig(doc.obj, ("metadata", "namespace"))
    return namespace if isinstance(namespace, str) else "default"


def name_of(doc: Document) -> str:
    name = dig(doc.obj, ("metadata", "name"))
    return name if isinstance(name, str) else ""


def inventory_of(documents: list[Document]) -> Inventory:
    inventory = Inventory()
    for doc in documents:
        kind = doc.obj.get("kind")
        if not isinstance(kind, str):
            continue
        inventory.by_kind.setdefault(kind, []).append(doc)
        if kind in POD_TEMPLATE_PATHS:
            inventory.workloads.append(
                Workload(doc, kind, namespace_of(doc), name_of(doc), POD_TEMPLATE_PATHS[kind])
            )
    for hpa in inventory.of_kind("HorizontalPodAutoscaler"):
        target = as_dict(dig(hpa.obj, ("spec", "scaleTargetRef")))
        workload = inventory.workload(
            namespace_of(hpa), str(target.get("kind")), str(target.get("name"))
        )
        if workload is not None:
            low = dig(hpa.obj, ("spec", "minReplicas"))
            high = dig(hpa.obj, ("spec", "maxReplicas"))
            workload.hpa_min = low if isinstance(low, int) else 1
            workload.hpa_max = high if isinstance(high, int) else workload.hpa_min
    return inventory
