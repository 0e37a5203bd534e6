"""One deployment as the targets see it, and what they report back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from services.deployer.progress import Reporter

JobKind = Literal["deploy", "rollback"]


@dataclass
class Job:
    tenant_id: str
    deployment_id: str
    revision: int  # carried by the events
    manifest_revision: int  # the objects' revision
    kind: JobKind
    objects: list[dict[str, Any]]
    inventory: list[dict[str, Any]]  # what an earlier deployment applied
    reporter: Reporter


@dataclass
class Outcome:
    ok: bool
    reason: str = ""
    objects: list[dict[str, Any]] = field(default_factory=list)  # per-object status
    inventory: list[dict[str, Any]] = field(default_factory=list)  # what may now exist
    placement: dict[str, Any] | None = None


def object_status(obj_ref: dict[str, Any], status: str, message: str = "") -> dict[str, Any]:
    entry = dict(obj_ref)
    entry["status"] = status
    if message:
        entry["message"] = message
    return entry
