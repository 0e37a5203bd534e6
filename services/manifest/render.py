"""Render a sized tenant into Kubernetes objects, and serialise them as YAML, JSON and a hash."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import msgspec
import yaml

from services.manifest.monitoring import monitoring_objects
from services.manifest.naming import (
    HASH_ANNOTATION,
    REVISION_ANNOTATION,
    TenantManifestInput,
    image_tag,
)
from services.manifest.network import network_policies
from services.manifest.tenant_objects import (
    limit_range,
    namespace,
    resource_quota,
    settings_config_map,
)
from services.manifest.workloads import is_deployed, objects_for_service

__all__ = [
    "RenderError",
    "TenantManifestInput",
    "content_hash",
    "render",
    "render_both",
    "to_json",
    "to_yaml",
]

Obj = dict[str, Any]
# Annotations that describe the manifest rather than the workload: left out of the hash so the
# same sizing at a new revision hashes the same.
_UNHASHED = (HASH_ANNOTATION, REVISION_ANNOTATION)


class RenderError(ValueError):
    """The sizing cannot become a manifest that runs (e.g. an image without a pinned tag)."""


# msgspec writes the bytes `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
# wrote for the strings, integers and booleans objects are made of (hashes stay those of earlier
# releases; a test holds the two equal), ten times faster: hashing was a third of rendering.
_CANONICAL = msgspec.json.Encoder(order="sorted")


def _canonical_json(value: Any) -> bytes:
    return _CANONICAL.encode(value)


def _check_images(tenant: TenantManifestInput) -> None:
    for sizing in tenant.sizing.services:
        tag = image_tag(sizing.image)
        if tag is None or tag == "latest":
            raise RenderError(
                f"service {sizing.service}: image {sizing.image!r} must carry a pinned tag"
            )


def render(tenant: TenantManifestInput, include_monitoring: bool) -> list[Obj]:
    """All objects of the tenant's namespace, annotated with the manifest hash and revision."""
    tenant_wide, workloads = _common_objects(tenant)
    return _annotated(tenant, _variant(tenant, include_monitoring, tenant_wide, workloads))


def render_both(tenant: TenantManifestInput) -> tuple[list[Obj], list[Obj]]:
    """`render` without and with monitoring: the objects monitoring does not change are made
    once (they were most of the rendering) and each variant annotates copies of its own."""
    tenant_wide, workloads = _common_objects(tenant)
    plain = _variant(tenant, False, tenant_wide, workloads)
    monitored = [_own_metadata(o) for o in _variant(tenant, True, tenant_wide, workloads)]
    return _annotated(tenant, plain), _annotated(tenant, monitored)


def _common_objects(tenant: TenantManifestInput) -> tuple[list[Obj], list[Obj]]:
    """The tenant-wide objects and the services' workloads: the same in both variants."""
    _check_images(tenant)
    config = settings_config_map(tenant)
    config_hash = hashlib.sha256(_canonical_json(config["data"])).hexdigest()[:16]
    workloads: list[Obj] = []
    for sizing in sorted(tenant.sizing.services, key=lambda s: s.service):
        if is_deployed(sizing):
            workloads.extend(objects_for_service(tenant, sizing, config_hash))
    return [namespace(tenant), resource_quota(tenant), limit_range(tenant), config], workloads


def _variant(
    tenant: TenantManifestInput,
    include_monitoring: bool,
    tenant_wide: list[Obj],
    workloads: list[Obj],
) -> list[Obj]:
    objects = [*tenant_wide, *network_policies(tenant, include_monitoring), *workloads]
    if include_monitoring:
        objects.extend(monitoring_objects(tenant))
    return objects


def _own_metadata(obj: Obj) -> Obj:
    """The object with metadata and annotations of its own, for `_annotated` to change; the
    rest is shared, and never changed after rendering."""
    metadata = dict(obj["metadata"])
    if "annotations" in metadata:
        metadata["annotations"] = dict(metadata["annotations"])
    return {**obj, "metadata": metadata}


def _annotated(tenant: TenantManifestInput, objects: list[Obj]) -> list[Obj]:
    digest = content_hash(objects)
    for obj in objects:
        annotations = obj["metadata"].setdefault("annotations", {})
        annotations[HASH_ANNOTATION] = digest
        annotations[REVISION_ANNOTATION] = str(tenant.revision)
    return objects


def _without_manifest_annotations(obj: Obj) -> Obj:
    """The object with its metadata copied without those annotations; the rest is shared."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("annotations"), dict):
        return obj
    kept = {k: v for k, v in metadata["annotations"].items() if k not in _UNHASHED}
    stripped_metadata = {k: v for k, v in metadata.items() if k != "annotations"}
    if kept:
        stripped_metadata["annotations"] = kept
    return {**obj, "metadata": stripped_metadata}


def content_hash(objects: list[Obj]) -> str:
    """sha256 of the canonical JSON of the objects, ignoring the hash and revision annotations."""
    canonical = [_without_manifest_annotations(obj) for obj in objects]
    return hashlib.sha256(_canonical_json(canonical)).hexdigest()


# libyaml's emitter: about five times faster than the pure-Python one for a large tenant. It
# writes lists flush with their key, which kubectl and every YAML parser read the same way.
_ManifestDumper = yaml.CSafeDumper


def to_yaml(objects: list[Obj]) -> str:
    """Multi-document YAML in the objects' own key order: the same objects give the same bytes."""
    return yaml.dump_all(
        objects,
        Dumper=_ManifestDumper,
        sort_keys=False,
        explicit_start=True,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
    )


def to_json(objects: list[Obj]) -> str:
    """A `v1/List`, which `kubectl apply -f` accepts like the YAML form."""
    return json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": objects}, indent=2, ensure_ascii=False
    )
