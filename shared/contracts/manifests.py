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
