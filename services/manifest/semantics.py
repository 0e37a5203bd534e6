"""Checks a schema cannot make: quantities, images, quota, GPUs, and what refers to what."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.manifest.inventory import (
    GPU_RESOURCE,
    Inventory,
    Workload,
    as_dict,
    as_list,
    dig,
    name_of,
    namespace_of,
)
from services.manifest.naming import image_tag
from services.manifest.report import Document, Issue
from shared.quantities import QuantityError, parse_quantity

# Quota keys and the pod request each one bounds.
QUOTA_KEYS = {
    "requests.cpu": "cpu",
    "cpu": "cpu",
    "requests.memory": "memory",
    "memory": "memory",
    f"requests.{GPU_RESOURCE}": GPU_RESOURCE,
}


@dataclass
class Findings:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_containers(inventory: Inventory, found: Findings) -> None:
    for workload in inventory.workloads:
        doc = workload.doc
        for path, container in workload.containers:
            image = container.get("image")
            tag = image_tag(image) if isinstance(image, str) else None
            if isinstance(image, str) and tag is None:
                found.errors.append(
                    doc.issue((*path, "image"), f"image {image!r} has no tag: pin a version")
                )
            elif tag == "latest":
                found.warnings.append(f"{doc.label}: image {image!r} uses 'latest'; pin a version")
            _check_resources(doc, (*path, "resources"), as_dict(container.get("resources")), found)


def _check_resources(
    doc: Document, path: tuple[str | int, ...], resources: dict[str, object], found: Findings
) -> None:
    if not resources.get("requests"):
        found.warnings.append(
            f"{doc.label}: container at {'.'.join(map(str, path[:-1]))} has no resource requests"
        )
    for section in ("requests", "limits"):
        for name, value in as_dict(resources.get(section)).items():
            try:
                parse_quantity(value)
            except QuantityError as error:
                found.errors.append(doc.issue((*path, section, name), str(error)))
    requests = as_dict(resources.get("requests"))
    limits = as_dict(resources.get("limits"))
    if GPU_RESOURCE in requests and requests.get(GPU_RESOURCE) != limits.get(GPU_RESOURCE):
        found.errors.append(
            doc.issue(
                (*path, "limits", GPU_RESOURCE),
                f"{GPU_RESOURCE} request {requests[GPU_RESOURCE]!r} must equal its limit "
                f"{limits.get(GPU_RESOURCE)!r}",
            )
        )


def check_services(inventory: Inventory, found: Findings) -> None:
    for doc in inventory.of_kind("Service"):
        selector = as_dict(dig(doc.obj, ("spec", "selector")))
        if not selector:
            continue  # a Service without selector has hand-made endpoints
        namespace = namespace_of(doc)
        selected = [
            w
            for w in inventory.workloads
            if w.namespace == namespace and selector.items() <= w.pod_labels.items()
        ]
        if not selected:
            found.errors.append(
                doc.issue(("spec", "selector"), f"selector {selector} matches no workload's pods")
            )
            continue
        for i, port in enumerate(as_list(dig(doc.obj, ("spec", "ports")))):
            target = as_dict(port).get("targetPort", as_dict(port).get("port"))
            if not any(_has_port(w, target) for w in selected):
                found.errors.append(
                    doc.issue(
                        ("spec", "ports", i, "targetPort"),
                        f"targetPort {target!r} is not a port of the selected containers",
                    )
                )


def _has_port(workload: Workload, target: object) -> bool:
    for _, container in workload.containers:
        for port in as_list(container.get("ports")):
            port = as_dict(port)
            if target in (port.get("name"), port.get("containerPort")):
                return True
    return False


def check_autoscalers(inventory: Inventory, found: Findings) -> None:
    for doc in inventory.of_kind("HorizontalPodAutoscaler"):
        target = as_dict(dig(doc.obj, ("spec", "scaleTargetRef")))
        workload = inventory.workload(
            namespace_of(doc), str(target.get("kind")), str(target.get("name"))
        )
        if workload is None:
            found.errors.append(
                doc.issue(
                    ("spec", "scaleTargetRef", "name"),
                    f"scale target {target.get('kind')}/{target.get('name')} is missing",
                )
            )
        elif dig(workload.doc.obj, ("spec", "replicas")) is not None:
            found.warnings.append(
                f"{workload.doc.label}: spec.replicas is set but {doc.label} owns the replica "
                "count; every apply would reset it"
            )


def check_quotas(inventory: Inventory, found: Findings) -> None:
    for doc in inventory.of_kind("ResourceQuota"):
        namespace = namespace_of(doc)
        workloads = [w for w in inventory.workloads if w.namespace == namespace]
        hard = as_dict(dig(doc.obj, ("spec", "hard")))
        for key, value in hard.items():
            try:
                allowed = float(parse_quantity(value))
            except QuantityError as error:
                found.errors.append(doc.issue(("spec", "hard", key), str(error)))
                continue
            if key == "pods":
                _compare(doc, key, allowed, sum(w.replicas for w in workloads), "pods", found)
            elif key in QUOTA_KEYS:
                resource = QUOTA_KEYS[key]
                at_rest = sum(w.replicas * w.pod_requests().get(resource, 0) for w in workloads)
                at_peak = sum(w.max_replicas * w.pod_requests().get(resource, 0) for w in workloads)
                _compare(doc, key, allowed, at_rest, "requests at the current replica count", found)
                if at_rest <= allowed < at_peak:
                    found.warnings.append(
                        f"{doc.label}: {key} {value} stops autoscaling short of its maximum, "
                        f"which requests {_show(resource, at_peak)}"
                    )


def _compare(
    doc: Document, key: str, allowed: float, needed: float, what: str, f: Findings
) -> None:
    if needed > allowed + 1e-9:
        resource = QUOTA_KEYS.get(key, key)
        f.errors.append(
            doc.issue(
                ("spec", "hard", key),
                f"quota {key} {_show(resource, allowed)} is below the {_show(resource, needed)} "
                f"the workloads need ({what})",
            )
        )


def _show(resource: str, amount: float) -> str:
    if resource == "cpu":
        return f"{round(amount * 1000)}m"
    if resource == "memory":
        return f"{round(amount / 2**20)}Mi"
    return f"{amount:g}"


def check_gpu_capacity(
    inventory: Inventory,
    catalogue: dict[str, int] | None,
    cluster: int | None,
    found: Findings,
) -> None:
    at_rest = at_peak = 0.0
    for workload in inventory.workloads:
        per_pod = workload.pod_requests().get(GPU_RESOURCE, 0)
        at_rest += per_pod * workload.replicas
        at_peak += per_pod * workload.max_replicas
        if per_pod and catalogue:
            _check_gpus_fit_a_server(workload, per_pod, catalogue, found)
    if cluster is None:
        return
    if at_rest > cluster:
        doc = inventory.workloads[0].doc if inventory.workloads else None
        found.errors.append(
            Issue(
                object=doc.label if doc else "manifest",
                field="",
                message=f"the workloads request {at_rest:g} GPUs; the cluster has {cluster}",
            )
        )
    elif at_peak > cluster:
        found.warnings.append(
            f"GPU requests may exceed the cluster's capacity: {at_peak:g} GPUs at the "
            f"autoscaling maximum, {cluster} in the cluster"
        )


def _check_gpus_fit_a_server(
    workload: Workload, per_pod: float, catalogue: dict[str, int], found: Findings
) -> None:
    labels = workload.pod_labels
    selector = as_dict(dig(workload.doc.obj, (*workload.pod_spec_path, "nodeSelector")))
    names = {str(v).lower() for v in [labels.get("ecp.ai/gpu-type"), *selector.values()] if v}
    known = {name.lower(): count for name, count in catalogue.items()}
    matched = [known[name] for name in names if name in known]
    capacity = max(matched) if matched else max(known.values(), default=0)
    if per_pod > capacity:
        found.errors.append(
            workload.doc.issue(
                (*workload.containers[0][0], "resources", "limits", GPU_RESOURCE)
                if workload.containers
                else (),
                f"a pod requests {per_pod:g} GPUs; the largest {'/'.join(sorted(names)) or 'GPU'} "
                f"server in the catalogue has {capacity}",
            )
        )


def check_service_monitors(inventory: Inventory, found: Findings) -> None:
    for doc in inventory.of_kind("ServiceMonitor"):
        selector = as_dict(dig(doc.obj, ("spec", "selector", "matchLabels")))
        services = [
            s
            for s in inventory.of_kind("Service")
            if namespace_of(s) == namespace_of(doc)
            and selector.items() <= as_dict(dig(s.obj, ("metadata", "labels"))).items()
        ]
        port_names = {
            as_dict(p).get("name") for s in services for p in as_list(dig(s.obj, ("spec", "ports")))
        }
        for i, endpoint in enumerate(as_list(dig(doc.obj, ("spec", "endpoints")))):
            port = as_dict(endpoint).get("port")
            if port is not None and port not in port_names:
                found.errors.append(
                    doc.issue(
                        ("spec", "endpoints", i, "port"),
                        f"port {port!r} is not a named port of any Service it selects",
                    )
                )


def check_duplicates(documents: list[Document], found: Findings) -> None:
    seen: set[tuple[str, str, str]] = set()
    for doc in documents:
        key = (str(doc.obj.get("kind")), namespace_of(doc), name_of(doc))
        if key in seen:
            found.errors.append(doc.issue(("metadata", "name"), "a second object of that name"))
        seen.add(key)


def check_semantics(
    documents: list[Document],
    inventory: Inventory,
    catalogue_gpu_capacity: dict[str, int] | None,
    cluster_gpu_capacity: int | None,
) -> Findings:
    found = Findings()
    check_duplicates(documents, found)
    check_containers(inventory, found)
    check_services(inventory, found)
    check_autoscalers(inventory, found)
    check_quotas(inventory, found)
    check_gpu_capacity(inventory, catalogue_gpu_capacity, cluster_gpu_capacity, found)
    check_service_monitors(inventory, found)
    return found
