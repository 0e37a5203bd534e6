"""What the renderer is given, and the names and labels every rendered object shares."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.sizing import ServiceSizing, SizingResult
from shared.contracts.tenants import Preset, TenantId

PART_OF = "ecp-ai"
MANAGED_BY = "ecp-orchestrator"
HASH_ANNOTATION = "ecp.ai/content-hash"
REVISION_ANNOTATION = "ecp.ai/revision"
CONFIG_HASH_ANNOTATION = "ecp.ai/config-hash"
PORT_NAME = "http"  # the container port, the Service port and the ServiceMonitor endpoint
SETTINGS_CONFIGMAP = "tenant-settings"
FRONT_SERVICES = ("callbot", "chatbot", "advisor")
BACK_END_SERVICES = ("stt", "tts", "nlp", "aicm", "ta", "qa")
RUN_AS_USER = 10001

_LABEL_VALUE_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class TenantManifestInput(BaseModel):
    """One tenant at one revision, sized: everything `render` needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: TenantId
    name: str
    preset: Preset
    revision: int = Field(ge=1)
    sizing: SizingResult
    ingress_namespace: str = "ingress-nginx"
    monitoring_namespace: str = "monitoring"


def namespace_for(tenant_id: str) -> str:
    return f"ecp-ai-{tenant_id}"


def credentials_secret_for(tenant_id: str) -> str:
    return f"{tenant_id}-credentials"


def label_value(text: str) -> str:
    """A string made safe for a label value: at most 63 characters, alphanumeric at both ends."""
    return _LABEL_VALUE_UNSAFE.sub("-", text)[:63].strip("-_.")


def image_tag(image: str) -> str | None:
    """The tag of an image reference, None when it has none (a digest counts as a tag)."""
    if "@" in image:
        return image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def tenant_labels(tenant: TenantManifestInput, component: str) -> dict[str, str]:
    """Labels of tenant-wide objects (namespace, quota, policies)."""
    return {
        "app.kubernetes.io/name": "ecp-ai-tenant",
        "app.kubernetes.io/instance": tenant.tenant_id,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/version": label_value(tenant.sizing.catalogue_version) or "unknown",
        "ecp.ai/tenant": tenant.tenant_id,
        "ecp.ai/preset": tenant.preset,
    }


def selector_labels(tenant: TenantManifestInput, service: str) -> dict[str, str]:
    """The labels a workload's pods are selected by: stable, since selectors are immutable."""
    return {
        "app.kubernetes.io/name": service,
        "app.kubernetes.io/instance": f"{tenant.tenant_id}-{service}",
    }


def workload_labels(tenant: TenantManifestInput, sizing: ServiceSizing) -> dict[str, str]:
    return {
        **selector_labels(tenant, sizing.service),
        "app.kubernetes.io/component": sizing.kind,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/version": label_value(image_tag(sizing.image) or "") or "unknown",
        "ecp.ai/tenant": tenant.tenant_id,
        "ecp.ai/preset": tenant.preset,
        "ecp.ai/service": sizing.service,
    }


def metadata(name: str, labels: dict[str, str], namespace: str | None = None) -> dict[str, object]:
    meta: dict[str, object] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(labels)
    return meta
