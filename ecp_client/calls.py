"""Every API route as a `Call`: what to send and how to read the answer, for both clients."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

API_PREFIX = "/api/v1"
# The Namespace of a rendered manifest names its tenant in a label and in its name.
TENANT_LABEL = re.compile(r"""ecp\.ai/tenant:\s*["']?([a-z0-9][-a-z0-9]*)""")
NAMESPACE_NAME = re.compile(r"""name:\s*["']?ecp-ai-([a-z0-9][-a-z0-9]*)""")


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # under /api/v1 unless `root`
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    text: bool = False  # the answer is text (YAML), not JSON
    root: bool = False  # the path is under the server root (/healthz), not /api/v1
    answers: tuple[int, ...] = ()  # error statuses that are answers, not errors (readiness)
    safe: bool = False  # no side effects: may be sent again after a 503/504

    @property
    def retryable(self) -> bool:
        return self.safe or self.method == "GET"


def split_base_url(base_url: str) -> tuple[str, str]:
    """(server root, API base) from either form: `http://h:8001` or `http://h:8001/api/v1`."""
    base = base_url.rstrip("/")
    if base.endswith(API_PREFIX):
        return base[: -len(API_PREFIX)], base
    return base, base + API_PREFIX


def ws_root(root: str) -> str:
    return "wss://" + root[8:] if root.startswith("https://") else "ws://" + root[7:]


def mode_headers(is_demo: bool, api_key: str | None) -> dict[str, str]:
    headers = {"X-Demo-Mode": "true" if is_demo else "false"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def segment(value: str | int) -> str:
    return quote(str(value), safe="")


def given(**params: Any) -> dict[str, Any]:
    """Query parameters that were given (None means: leave it to the server's default)."""
    return {k: v for k, v in params.items() if v is not None}


def tenant_of_manifest(manifest_text: str) -> str | None:
    """The tenant a rendered manifest belongs to, read from its Namespace."""
    found = TENANT_LABEL.search(manifest_text) or NAMESPACE_NAME.search(manifest_text)
    return found.group(1) if found else None


# ---- tenants and sizing ----------------------------------------------------------------------


def list_tenants(
    skip: int = 0, limit: int = 100, status: str | None = None, preset: str | None = None
) -> Call:
    return Call("GET", "/tenants/", given(skip=skip, limit=limit, status=status, preset=preset))


def create_tenant(spec: dict[str, Any]) -> Call:
    return Call("POST", "/tenants/", body=spec)


def get_tenant(tenant_id: str) -> Call:
    return Call("GET", f"/tenants/{segment(tenant_id)}")


def update_tenant(tenant_id: str, changes: dict[str, Any]) -> Call:
    return Call("PATCH", f"/tenants/{segment(tenant_id)}", body=changes)


def delete_tenant(tenant_id: str) -> Call:
    return Call("DELETE", f"/tenants/{segment(tenant_id)}")


def calculate_resources(spec: dict[str, Any]) -> Call:
    return Call("POST", "/tenants/calculate-resources", body=spec, safe=True)


# ---- manifests -------------------------------------------------------------------------------


def get_manifest(
    tenant_id: str,
    format: str = "yaml",
    include_monitoring: bool = False,
    revision: int | None = None,
) -> Call:
    params = given(format=format, revision=revision)
    if include_monitoring:
        params["include_monitoring"] = "true"
    return Call("GET", f"/tenants/{segment(tenant_id)}/manifest", params, text=format == "yaml")


def manifest_revisions(tenant_id: str) -> Call:
    return Call("GET", f"/tenants/{segment(tenant_id)}/manifest/revisions")


def manifest_diff(
    tenant_id: str, from_revision: int | None = None, to_revision: int | None = None
) -> Call:
    params = {"from": from_revision, "to": to_revision}
    return Call(
        "GET",
        f"/tenants/{segment(tenant_id)}/manifest/diff",
        {k: v for k, v in params.items() if v is not None},
    )


def validate_manifest(manifest_text: str, tenant_id: str | None = None) -> Call:
    tenant = tenant_id or tenant_of_manifest(manifest_text)
    if tenant is None:
        raise ValueError("the manifest names no tenant (no ecp-ai-<id> Namespace): pass tenant_id")
    body = {"tenant_id": tenant, "manifest_content": manifest_text}
    return Call("POST", "/tenants/validate-manifest", body=body, safe=True)


# ---- deployments -----------------------------------------------------------------------------


def deploy(tenant_id: str, revision: int | None = None) -> Call:
    body = {"revision": revision} if revision is not None else None
    return Call("POST", f"/tenants/{segment(tenant_id)}/deploy", body=body)


def deployment(tenant_id: str) -> Call:
    return Call("GET", f"/tenants/{segment(tenant_id)}/deployment")


def rollback(tenant_id: str, to_revision: int | None = None) -> Call:
    body = {"to_revision": to_revision} if to_revision is not None else None
    return Call("POST", f"/tenants/{segment(tenant_id)}/rollback", body=body)


def cluster() -> Call:
    return Call("GET", "/cluster")


# ---- metrics ---------------------------------------------------------------------------------


def push_metrics(
    tenant_id: str,
    metrics: dict[str, float],
    timestamp: datetime | None = None,
    labels: dict[str, str] | None = None,
) -> Call:
    body: dict[str, Any] = {"metrics": metrics}
    if timestamp is not None:
        body["timestamp"] = timestamp.isoformat()
    if labels:
        body["labels"] = labels
    return Call("POST", f"/tenants/{segment(tenant_id)}/monitoring", body=body)


def push_batch(samples: list[dict[str, Any]], tenant_id: str | None = None) -> Call:
    body: dict[str, Any] = {"samples": samples}
    if tenant_id is not None:
        body["tenant_id"] = tenant_id
    return Call("POST", "/monitoring/batch", body=body)


def query_metrics(
    tenant_id: str, metric_type: str | None = None, hours: float = 1.0, source: str | None = None
) -> Call:
    params = given(metric_type=metric_type, hours=hours, source=source)
    return Call("GET", f"/tenants/{segment(tenant_id)}/monitoring", params)


# ---- alerts ----------------------------------------------------------------------------------


def alerts_path(tenant_id: str, *rest: str) -> str:
    return "/".join([f"/tenants/{segment(tenant_id)}/alerts", *(segment(r) for r in rest)])


def create_alert(tenant_id: str, rule: dict[str, Any]) -> Call:
    return Call("POST", alerts_path(tenant_id), body=rule)


def list_alerts(tenant_id: str) -> Call:
    return Call("GET", alerts_path(tenant_id))


def get_alert(tenant_id: str, rule: str) -> Call:
    return Call("GET", alerts_path(tenant_id, rule))


def replace_alert(tenant_id: str, rule: str, body: dict[str, Any]) -> Call:
    return Call("PUT", alerts_path(tenant_id, rule), body=body)


def change_alert(tenant_id: str, rule: str, changes: dict[str, Any]) -> Call:
    return Call("PATCH", alerts_path(tenant_id, rule), body=changes)


def delete_alert(tenant_id: str, rule: str) -> Call:
    return Call("DELETE", alerts_path(tenant_id, rule))


def alert_history(tenant_id: str, rule: str | None = None, limit: int = 100) -> Call:
    return Call("GET", alerts_path(tenant_id, "history"), given(rule=rule, limit=limit))


def notifications(tenant_id: str, limit: int = 100) -> Call:
    return Call("GET", alerts_path(tenant_id, "notifications"), {"limit": limit})


def export_alerts(tenant_id: str, format: str = "prometheus") -> Call:
    return Call("GET", alerts_path(tenant_id, "export"), {"format": format}, text=True)


def create_silence(tenant_id: str, silence: dict[str, Any]) -> Call:
    return Call("POST", alerts_path(tenant_id, "silences"), body=silence)


def list_silences(tenant_id: str) -> Call:
    return Call("GET", alerts_path(tenant_id, "silences"))


def expire_silence(tenant_id: str, silence_id: str) -> Call:
    return Call("DELETE", alerts_path(tenant_id, "silences", silence_id))


# ---- keys, dead letters, health ----------------------------------------------------------------


def create_key(name: str, role: str = "viewer", mode: str | None = None) -> Call:
    return Call("POST", "/keys/", body={"name": name, "role": role, "mode": mode})


def list_keys() -> Call:
    return Call("GET", "/keys/")


def revoke_key(key_id: str) -> Call:
    return Call("DELETE", f"/keys/{segment(key_id)}")


def list_dead_letters(limit: int = 100) -> Call:
    return Call("GET", "/dead-letters/", {"limit": limit})


def replay_dead_letter(sequence: int) -> Call:
    return Call("POST", f"/dead-letters/{int(sequence)}/replay")


def health() -> Call:
    return Call("GET", "/healthz", root=True)


def readiness() -> Call:
    return Call("GET", "/readyz", root=True, answers=(503,))
