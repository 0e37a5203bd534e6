"""Manifest events: the rendered objects of one tenant revision."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.contracts.base import TenantMessage


class ManifestRendered(TenantMessage):
    """The objects travel inline (a large tenant is well under NATS's 1 MiB payload limit)."""

    content_hash: str
    preset: str
    objects: list[dict[str, Any]]  # without monitoring objects, in apply order
    auto_deploy: bool | None = None  # the tenant's own setting; None: the mode's default


class ManifestQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: str
    revision: int | None = None
    format: str = "yaml"
    include_monitoring: bool = False


class RevisionsQuery(BaseModel):
    """The rpc body for `manifest.revisions`."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str


class DiffQuery(BaseModel):
    """The rpc body for `manifest.diff`: None means the latest (`to`) and the one before (`from`)."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str
    from_revision: int | None = None
    to_revision: int | None = None


class ValidateManifestRequest(BaseModel):
    """The rpc body for `manifest.validate`. A large text travels zlib-compressed, base64-encoded
    in `manifest_zlib` (NATS refuses payloads over 1 MiB by default)."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str
    manifest_content: str = ""
    manifest_zlib: str | None = None
    kubernetes_version: str | None = None


MAX_MANIFEST_BYTES = 2 * 1024 * 1024  # the largest manifest text `validate-manifest` takes
