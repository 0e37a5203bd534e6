"""Validate a manifest's text: YAML syntax, Kubernetes schemas (strict), then semantic checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

import yaml

from services.manifest.inventory import as_dict, as_list, inventory_of
from services.manifest.report import Document, Issue, Path, ValidationReport
from services.manifest.schemas import (
    SchemaNotFound,
    UnsupportedVersionError,
    fast_check_for,
    kinds_served,
    schema_dir,
    schema_errors,
    validator_for,
)
from services.manifest.semantics import check_semantics
from services.manifest.summary import DEFAULT_PRICE_PER_CORE_MONTH, resource_summary
from services.manifest.yaml_events import load_documents

__all__ = ["Issue", "UnsupportedVersionError", "ValidationReport", "validate_manifest"]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MONITORING_API = "monitoring.coreos.com/v1"


def parse_documents(text: str) -> tuple[list[Document], list[Issue]]:
    """Every document up to the first syntax error, which is reported with its line and column."""
    loader = _Loader(text)
    documents: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            documents.append(Document(len(documents) + 1, loader.construct_document(node), node))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        context = f" ({error.context})" if error.context else ""
        return documents, [
            Issue(
                object=f"document {len(documents) + 1}",
                field="",
                message=f"YAML syntax error: {error.problem}{context}",
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            )
        ]
    except yaml.YAMLError as error:
        return documents, [
            Issue(object=f"document {len(documents) + 1}", field="", message=str(error))
        ]
    finally:
        loader.dispose()
    return documents, []


def _service_monitor_shape(obj: dict[str, Any]) -> list[tuple[Path, str]]:
    spec = as_dict(obj.get("spec"))
    problems: list[tuple[Path, str]] = []
    if not isinstance(spec.get("selector"), dict):
        problems.append((("spec", "selector"), "a ServiceMonitor needs a selector mapping"))
    endpoints = spec.get("endpoints")
    if not isinstance(endpoints, list) or not endpoints:
        problems.append((("spec", "endpoints"), "a ServiceMonitor needs at least one endpoint"))
    for i, endpoint in enumerate(as_list(endpoints)):
        if not isinstance(endpoint, dict) or not ("port" in endpoint or "targetPort" in endpoint):
            problems.append((("spec", "endpoints", i), "an endpoint needs a port or targetPort"))
    return problems


def _prometheus_rule_shape(obj: dict[str, Any]) -> list[tuple[Path, str]]:
    groups = as_dict(obj.get("spec")).get("groups")
    if not isinstance(groups, list) or not groups:
        return [(("spec", "groups"), "a PrometheusRule needs at least one group")]
    problems: list[tuple[Path, str]] = []
    for g, group in enumerate(groups):
        group = as_dict(group)
        if not isinstance(group.get("name"), str):
            problems.append((("spec", "groups", g, "name"), "a rule group needs a name"))
        for r, rule in enumerate(as_list(group.get("rules"))):
            rule = as_dict(rule)
            path: Path = ("spec", "groups", g, "rules", r)
            if not isinstance(rule.get("alert", rule.get("record")), str):
                problems.append((path, "a rule needs 'alert' or 'record'"))
            if not isinstance(rule.get("expr"), str | int):
                problems.append(((*path, "expr"), "a rule needs an expression"))
    return problems


CUSTOM_RESOURCE_SHAPES = {
    (MONITORING_API, "ServiceMonitor"): _service_monitor_shape,
    (MONITORING_API, "PrometheusRule"): _prometheus_rule_shape,
}


def _custom_resource_issues(doc: Document, api_version: str, kind: str) -> list[Issue]:
    obj = doc.obj
    problems = CUSTOM_RESOURCE_SHAPES[(api_version, kind)](obj)
    if not isinstance(as_dict(obj.get("metadata")).get("name"), str):
        problems.insert(0, (("metadata", "name"), "required field 'name' is missing"))
    return [doc.issue(path, message) for path, message in problems]


def _schema_issues(doc: Document, directory: FilePath, version: str) -> list[Issue]:
    api_version, kind = doc.obj["apiVersion"], doc.obj["kind"]
    try:
        validator = validator_for(directory, api_version, kind)
    except SchemaNotFound:
        if (api_version, kind) in CUSTOM_RESOURCE_SHAPES:
            return _custom_resource_issues(doc, api_version, kind)
        if kind.lower() in kinds_served(directory):
            return [doc.issue(("apiVersion",), f"{api_version} does not serve {kind} in {version}")]
        return [
            doc.issue(
                ("kind",),
                f"unknown kind {kind!r} ({api_version}): not in the Kubernetes {version} schemas "
                "and not a known custom resource",
            )
        ]
    fast = fast_check_for(directory, api_version, kind)
    return [doc.issue(path, message) for path, message in schema_errors(validator, doc.obj, fast)]


def _objects(documents: list[Document], errors: list[Issue]) -> list[Document]:
    """The documents that are Kubernetes objects; others become errors, empty ones are skipped."""
    objects = []
    for doc in documents:
        if doc.obj is None:
            continue
        if not isinstance(doc.obj, dict):
            got = type(doc.obj).__name__
            errors.append(doc.issue((), f"expected a mapping (a Kubernetes object), got a {got}"))
            continue
        missing = [k for k in ("apiVersion", "kind") if not isinstance(doc.obj.get(k), str)]
        if missing:
            errors.extend(doc.issue((k,), f"required field {k!r} is missing") for k in missing)
            continue
        objects.append(doc)
    return objects


def validate_manifest(
    text: str,
    *,
    kubernetes_version: str = "1.30",
    catalogue_gpu_capacity: dict[str, int] | None = None,
    cluster_gpu_capacity: int | None = None,
    price_per_gpu_hour: float | None = None,
    price_per_core_month: float | None = DEFAULT_PRICE_PER_CORE_MONTH,
) -> ValidationReport:
    """All errors of every document, warnings, and what the workloads request.

    `catalogue_gpu_capacity` maps a GPU type to GPUs per server; `cluster_gpu_capacity` is the
    cluster's GPU total. Raises UnsupportedVersionError for a version without bundled schemas.
    """
    directory = schema_dir(kubernetes_version)
    checks = _Checks(
        directory,
        kubernetes_version,
        catalogue_gpu_capacity,
        cluster_gpu_capacity,
        price_per_gpu_hour,
        price_per_core_month,
    )
    loaded = load_documents(text)
    if loaded is not None:
        # The fast path keeps no node tree, so it knows no line numbers: a manifest with errors
        # is checked again on the node-keeping path below, which places every error.
        report = checks.report([Document(i + 1, obj) for i, obj in enumerate(loaded)], [])
        if report.valid:
            return report
    documents, errors = parse_documents(text)
    return checks.report(documents, errors)


@dataclass(frozen=True)
class _Checks:
    directory: FilePath
    kubernetes_version: str
    catalogue_gpu_capacity: dict[str, int] | None
    cluster_gpu_capacity: int | None
    price_per_gpu_hour: float | None
    price_per_core_month: float | None

    def report(self, documents: list[Document], errors: list[Issue]) -> ValidationReport:
        directory, kubernetes_version = self.directory, self.kubernetes_version
        catalogue_gpu_capacity = self.catalogue_gpu_capacity
        cluster_gpu_capacity = self.cluster_gpu_capacity
        price_per_gpu_hour, price_per_core_month = (
            self.price_per_gpu_hour,
            self.price_per_core_month,
        )
        objects = _objects(documents, errors)
        warnings: list[str] = []
        for doc in objects:
            errors.extend(_schema_issues(doc, directory, kubernetes_version))
        custom = sorted(
            {
                d.obj["kind"]
                for d in objects
                if (d.obj["apiVersion"], d.obj["kind"]) in CUSTOM_RESOURCE_SHAPES
            }
        )
        warnings.extend(
            f"{kind}: a custom resource; only its basic shape was checked, not its CRD schema"
            for kind in custom
        )
        inventory = inventory_of(objects)
        found = check_semantics(objects, inventory, catalogue_gpu_capacity, cluster_gpu_capacity)
        errors.extend(found.errors)
        warnings.extend(found.warnings)
        if not documents and not errors:
            errors.append(
                Issue(object="manifest", field="", message="the manifest holds no objects")
            )
        return ValidationReport(
            valid=not errors,
            warnings=warnings,
            errors=errors,
            resource_summary=resource_summary(inventory, price_per_gpu_hour, price_per_core_month),
        )
