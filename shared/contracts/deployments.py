"""Deployment commands and events."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from shared.contracts.base import TenantMessage

DeploymentState = Literal["queued", "deploying", "succeeded", "failed", "rolled-back", "deleted"]


class DeployTenant(TenantMessage):
    """Deploy the manifests of `revision` (`revision` is the manifest revision to apply)."""

    reason: str = "requested"  # requested | auto | rollback
    deployment_id: str | None = None  # chosen by the sender so it can answer with it at once


class RollbackTenant(TenantMessage):
    to_revision: int | None = None  # None: the previous successful revision
    deployment_id: str | None = None  # chosen by the sender so it can answer with it at once


class DeploymentProgress(TenantMessage):
    deployment_id: str
    step: str  # validate, dry-run, namespace, quota, config, workload/<name>, rollout/<name>, done
    status: Literal["started", "ok", "waiting", "failed"]
    message: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


class DeploymentFinished(TenantMessage):
    """`deployment.succeeded`, `deployment.failed` or `deployment.rolled-back`."""

    deployment_id: str
    state: DeploymentState
    reason: str = ""
    objects: list[dict[str, Any]] = Field(default_factory=list)  # per-object status
