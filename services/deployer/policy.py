"""What to deploy and in which order: the auto-deploy rule, apply steps, inventory and prune sets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.modes import Mode
from shared.settings import Settings

FIELD_MANAGER = "ecp-orchestrator"
# Kinds grouped into the steps a deployment reports, in the order they are applied: the
# namespace and its limits exist before anything that lives in it or is counted against them.
NAMESPACE_KINDS = ("Namespace",)
QUOTA_KINDS = ("ResourceQuota", "LimitRange")
CONFIG_KINDS = (
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "Role",
    "RoleBinding",
    "NetworkPolicy",
    "PersistentVolumeClaim",
)
ROLLOUT_KINDS = ("Deployment", "StatefulSet")
# Within one workload's step, the pods' Service first and the autoscaler after its target.
WORKLOAD_KIND_ORDER = (
    "Service",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "Job",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
)


class ObjectRef(BaseModel):
    """One object in the cluster, as the inventory and the per-object status name it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    apiVersion: str
    kind: str
    name: str
    namespace: str | None = None

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectRef:
        meta = obj.get("metadata") or {}
        return cls(
            apiVersion=str(obj.get("apiVersion", "")),
            kind=str(obj.get("kind", "")),
            name=str(meta.get("name", "")),
            namespace=meta.get("namespace"),
        )

    def label(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


def auto_deploys(event_setting: bool | None, mode: Mode, settings: Settings) -> bool:
    """The tenant's own choice when it made one, else the mode's default."""
    if event_setting is not None:
        return event_setting
    return settings.auto_deploy_demo if mode is Mode.demo else settings.auto_deploy_prod


def auto_deployment_id(tenant_id: str, revision: int, content_hash: str) -> str:
    """The same rendered manifest always names the same deployment, so a replay is a no-op."""
    return f"auto-{tenant_id}-r{revision}-{content_hash[:12]}"


def invalid_objects(objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """What makes a set unusable before anything is sent anywhere."""
    problems = []
    seen: set[ObjectRef] = set()
    for index, obj in enumerate(objects):
        ref = ObjectRef.of(obj)
        if not ref.apiVersion or not ref.kind or not ref.name:
            problems.append(f"object #{index + 1} lacks apiVersion, kind or metadata.name")
        elif ref in seen:
            problems.append(f"{ref.label()} appears twice")
        seen.add(ref)
    if not objects:
        problems.append("the manifest has no objects")
    return problems


def step_of(obj: Mapping[str, Any]) -> str:
    kind = obj.get("kind", "")
    if kind in NAMESPACE_KINDS:
        return "namespace"
    if kind in QUOTA_KINDS:
        return "quota"
    if kind in CONFIG_KINDS:
        return "config"
    return f"workload/{(obj.get('metadata') or {}).get('name', '')}"


def apply_steps(objects: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The objects grouped into steps, in apply order; the manifest's own order within a group."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        groups.setdefault(step_of(obj), []).append(dict(obj))
    fixed = [s for s in ("namespace", "quota", "config") if s in groups]
    workloads = sorted(s for s in groups if s.startswith("workload/"))
    for step in workloads:
        groups[step].sort(key=_workload_kind_rank)
    return [(step, groups[step]) for step in (*fixed, *workloads)]


def _workload_kind_rank(obj: Mapping[str, Any]) -> int:
    kind = obj.get("kind", "")
    return (
        WORKLOAD_KIND_ORDER.index(kind) if kind in WORKLOAD_KIND_ORDER else len(WORKLOAD_KIND_ORDER)
    )


def inventory_of(objects: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [ObjectRef.of(obj).model_dump(exclude_none=True) for obj in objects]


def refs(inventory: Iterable[Mapping[str, Any]]) -> list[ObjectRef]:
    return [ObjectRef.model_validate(entry) for entry in inventory]


def to_prune(
    inventory: Iterable[Mapping[str, Any]], objects: Iterable[Mapping[str, Any]]
) -> list[ObjectRef]:
    """Objects applied before that the new set no longer has, dependants first.

    The namespace is never pruned here: only deleting the tenant removes it."""
    wanted = {ObjectRef.of(obj) for obj in objects}
    stale = [r for r in refs(inventory) if r not in wanted and r.kind not in NAMESPACE_KINDS]
    return list(reversed(stale))


def merged_inventory(
    before: Iterable[Mapping[str, Any]], applied: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """After a failure part-way, what may now exist: the old objects and those just applied."""
    merged: dict[ObjectRef, None] = dict.fromkeys(refs(before))
    merged.update(dict.fromkeys(refs(applied)))
    return [r.model_dump(exclude_none=True) for r in merged]


def namespace_of(inventory: Iterable[Mapping[str, Any]]) -> str | None:
    for ref in refs(inventory):
        if ref.kind == "Namespace":
            return ref.name
    return None


def rollback_target(
    finished: Sequence[tuple[int, str]], applied_revision: int, to_revision: int | None
) -> int | None:
    """The manifest revision to go back to.

    `finished` lists (manifest revision, state) of earlier deployments, newest first. With no
    `to_revision`, the newest revision that deployed successfully and is not the one live now."""
    if to_revision is not None:
        return to_revision
    for revision, state in finished:
        if state in ("succeeded", "rolled-back") and revision != applied_revision:
            return revision
    return None
