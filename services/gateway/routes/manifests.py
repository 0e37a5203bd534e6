"""`/api/v1/tenants/.../manifest`: rendered manifests, their revisions and diffs; validation.

Every answer comes from the manifest service over request/reply (`manifest.get`, ...).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import zlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from services.gateway.deps import GatewayDep, ModeDep, Viewer, require_live_tenant
from services.gateway.errors import Problem
from services.gateway.rpc import ask
from shared.contracts.manifests import (
    MAX_MANIFEST_BYTES,
    DiffQuery,
    ManifestQuery,
    RevisionsQuery,
    ValidateManifestRequest,
)
from shared.contracts.tenants import TenantId
from shared.modes import Mode

router = APIRouter(prefix="/api/v1/tenants", tags=["manifests"])

NOT_FOUND_STATUS = {"TENANT_NOT_FOUND": 404, "REVISION_NOT_FOUND": 404}
# The manifest is rendered just after the sizing the tenant's create waited for: a GET right
# after a create waits this long for it rather than answer 404.
RENDER_WAIT_SECONDS = 3.0
COMPRESS_ABOVE_BYTES = 64 * 1024


class ValidateManifestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: TenantId
    manifest_content: str
    kubernetes_version: str | None = Field(default=None, max_length=16)


class ResourceSummaryOut(BaseModel):
    total_cpu: str
    total_memory: str
    total_gpu: int
    estimated_cost: str
    cost_basis: str


class ValidationErrorOut(BaseModel):
    object: str
    field: str
    message: str
    line: int | None = None
    column: int | None = None


class ValidateManifestReply(BaseModel):
    valid: bool
    warnings: list[str]
    errors: list[ValidationErrorOut]
    resource_summary: ResourceSummaryOut


def refused(reply: dict[str, Any]) -> Problem:
    code = str(reply.get("code", "MANIFEST_ERROR"))
    return Problem(NOT_FOUND_STATUS.get(code, 422), code, str(reply.get("detail", "")))


async def ask_rendered(
    gateway: GatewayDep, mode: Mode, query: str, body: BaseModel, tenant_id: str
) -> dict[str, Any]:
    """Ask; while the live tenant's first manifest is still being rendered, ask again briefly."""
    deadline = time.monotonic() + RENDER_WAIT_SECONDS
    while True:
        reply: dict[str, Any] = await ask(gateway, mode, "manifest", query, body)
        if reply.get("ok"):
            return reply
        if reply.get("code") != "TENANT_NOT_FOUND":
            raise refused(reply)
        if time.monotonic() >= deadline:
            raise Problem(
                404,
                "MANIFEST_NOT_READY",
                f"tenant {tenant_id!r} has no rendered manifest yet; try again shortly",
            )
        await asyncio.sleep(0.1)


@router.get(
    "/{tenant_id}/manifest",
    responses={200: {"content": {"text/yaml": {}, "application/json": {}}}, 404: {}},
)
async def get_manifest(
    tenant_id: str,
    gateway: GatewayDep,
    mode: ModeDep,
    _: Viewer,
    format: Literal["yaml", "json"] = "yaml",
    include_monitoring: bool = False,
    revision: Annotated[int | None, Query(ge=1)] = None,
    x_debug: Annotated[str | None, Header()] = None,
) -> Response:
    """The tenant's manifest, multi-document YAML (`kubectl apply -f` takes it) or a JSON List."""
    await require_live_tenant(gateway, mode, tenant_id)
    started = time.perf_counter()
    query = ManifestQuery(
        tenant_id=tenant_id,
        revision=revision,
        format=format,
        include_monitoring=include_monitoring,
    )
    reply = await ask_rendered(gateway, mode, "get", query, tenant_id)
    extension = "yaml" if format == "yaml" else "json"
    headers = {
        "ETag": f'"{reply["content_hash"]}"',
        "X-Manifest-Revision": str(reply["revision"]),
        "X-Content-Hash": reply["content_hash"],
        "Content-Disposition": f'inline; filename="{tenant_id}-r{reply["revision"]}.{extension}"',
    }
    if (x_debug or "").lower() == "true":
        headers["X-Debug-Manifest"] = json.dumps(
            {
                "service": "manifest",
                "rpc": "manifest.get",
                "rpc_ms": round((time.perf_counter() - started) * 1e3, 2),
                "revision": reply["revision"],
                "bytes": len(reply["content"].encode()),
            }
        )
    return Response(reply["content"], media_type=reply["media_type"], headers=headers)


@router.get("/{tenant_id}/manifest/revisions")
async def manifest_revisions(
    tenant_id: str, gateway: GatewayDep, mode: ModeDep, _: Viewer
) -> dict[str, Any]:
    """Every rendered revision, newest first: hash, time and object counts per kind."""
    await require_live_tenant(gateway, mode, tenant_id)
    reply = await ask_rendered(
        gateway, mode, "revisions", RevisionsQuery(tenant_id=tenant_id), tenant_id
    )
    reply.pop("ok", None)
    return reply


@router.get("/{tenant_id}/manifest/diff")
async def manifest_diff(
    tenant_id: str,
    gateway: GatewayDep,
    mode: ModeDep,
    _: Viewer,
    from_revision: Annotated[int | None, Query(alias="from", ge=1)] = None,
    to_revision: Annotated[int | None, Query(alias="to", ge=1)] = None,
) -> dict[str, Any]:
    """What changed between two revisions, object by object (default: previous vs latest)."""
    await require_live_tenant(gateway, mode, tenant_id)
    query = DiffQuery(tenant_id=tenant_id, from_revision=from_revision, to_revision=to_revision)
    reply = await ask_rendered(gateway, mode, "diff", query, tenant_id)
    reply.pop("ok", None)
    return reply


def validate_request(body: ValidateManifestBody, max_payload: int) -> ValidateManifestRequest:
    """The rpc body; a large text travels compressed, and one that still would not fit is refused."""
    raw = body.manifest_content.encode()
    if len(raw) > MAX_MANIFEST_BYTES:
        raise Problem(
            413, "MANIFEST_TOO_LARGE", f"manifest_content exceeds {MAX_MANIFEST_BYTES} bytes"
        )
    request = ValidateManifestRequest(
        tenant_id=body.tenant_id, kubernetes_version=body.kubernetes_version
    )
    if len(raw) <= COMPRESS_ABOVE_BYTES:
        return request.model_copy(update={"manifest_content": body.manifest_content})
    packed = base64.b64encode(zlib.compress(raw, 6)).decode()
    if len(packed) > max_payload - 4096:
        raise Problem(
            413, "MANIFEST_TOO_LARGE", "manifest_content is too large to validate (even compressed)"
        )
    return request.model_copy(update={"manifest_zlib": packed})


@router.post(
    "/validate-manifest",
    response_model=ValidateManifestReply,
    responses={413: {}, 422: {}},
)
async def validate_manifest(
    body: ValidateManifestBody, gateway: GatewayDep, mode: ModeDep, _: Viewer
) -> dict[str, Any]:
    """Check a manifest's YAML, its Kubernetes schemas (strict) and its semantics.

    Text that is not YAML is an answer (`valid: false`, the line in the error), not a 4xx."""
    max_payload = gateway.broker.connection.max_payload
    reply: dict[str, Any] = await ask(
        gateway, mode, "manifest", "validate", validate_request(body, max_payload)
    )
    if not reply.get("ok"):
        code = str(reply.get("code"))
        raise Problem(413 if code == "MANIFEST_TOO_LARGE" else 422, code, str(reply.get("detail")))
    reply.pop("ok", None)
    return reply
