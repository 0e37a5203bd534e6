"""Prod deployments: server-side apply to a real Kubernetes API with the official client
(`kube_api`): a dry run of the whole set, ordered apply, rollout waits, pruning, deletion."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from services.deployer.job import Job, Outcome, object_status
from services.deployer.kube_api import NOT_CONFIGURED, KubeApi, KubeError
from services.deployer.policy import (
    ROLLOUT_KINDS,
    ObjectRef,
    apply_steps,
    invalid_objects,
    inventory_of,
    merged_inventory,
    namespace_of,
    refs,
    to_prune,
)
from shared.settings import Settings


def rollout_state(obj: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether a Deployment or StatefulSet has rolled out, and its progress in words."""
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    observed = int(status.get("observedGeneration") or 0)
    if observed < int(meta.get("generation") or 0):
        return False, "waiting for the controller to observe the new generation"
    updated = int(status.get("updatedReplicas") or 0)
    total = int(status.get("replicas") or 0)
    ready_key = "availableReplicas" if obj.get("kind") == "Deployment" else "readyReplicas"
    available = int(status.get(ready_key) or 0)
    words = f"{updated}/{desired} updated, {available}/{desired} available"
    if updated < desired or available < desired or total > updated:
        return False, words
    return True, words


class KubeTarget:
    """Deployments of the prod mode on the cluster named in the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.api = KubeApi(settings)
        self.poll_seconds = min(1.0, max(settings.rollout_timeout_seconds / 20, 0.05))

    @property
    def configured(self) -> bool:
        return self.api.configured

    async def run(self, job: Job) -> Outcome:
        report = job.reporter
        if not self.configured:
            await report.step("validate", "failed", NOT_CONFIGURED)
            return Outcome(ok=False, reason=NOT_CONFIGURED, inventory=job.inventory)
        applied: list[dict[str, Any]] = []
        try:
            return await self._run(job, applied)
        except KubeError as error:
            await report.step(report.last_step or "validate", "failed", str(error))
            return Outcome(
                ok=False,
                reason=str(error),
                objects=[object_status(r, "applied") for r in inventory_of(applied)],
                inventory=merged_inventory(job.inventory, inventory_of(applied)),
            )

    async def _run(self, job: Job, applied: list[dict[str, Any]]) -> Outcome:
        report, objects = job.reporter, job.objects
        await report.step("validate", "started")
        problems = invalid_objects(objects)
        if problems:
            await report.step("validate", "failed", "; ".join(problems))
            return Outcome(ok=False, reason="; ".join(problems), inventory=job.inventory)
        await report.step("validate", "ok", f"{len(objects)} objects")

        namespace = namespace_of(inventory_of(objects))
        await report.step("dry-run", "started", "server-side dry run of every object")
        note = await self._ensure_namespace(objects, namespace, applied)
        for obj in objects:
            await self.api.apply(obj, namespace, dry_run=True)
        await report.step("dry-run", "ok", f"the API server accepts all {len(objects)}{note}")

        statuses = []
        for step, group in apply_steps(objects):
            await report.step(step, "started")
            for obj in group:
                result = await self.api.apply(obj, namespace, dry_run=False)
                applied.append(obj)
                meta = result.to_dict().get("metadata", {})
                statuses.append(
                    object_status(
                        ObjectRef.of(obj).model_dump(exclude_none=True),
                        "applied",
                        f"resourceVersion {meta.get('resourceVersion', '?')}",
                    )
                )
            await report.step(step, "ok", ", ".join(ObjectRef.of(o).label() for o in group))

        pruned = to_prune(job.inventory, objects)
        if pruned:
            await report.step("prune", "started", f"{len(pruned)} object(s) no longer wanted")
            for ref in pruned:
                await self.api.delete(ref)
                statuses.append(object_status(ref.model_dump(exclude_none=True), "pruned"))
            await report.step("prune", "ok", ", ".join(r.label() for r in pruned))

        waiting = await self._await_rollouts(job, namespace, statuses)
        if waiting:
            return Outcome(
                ok=False,
                reason=waiting,
                objects=statuses,
                inventory=inventory_of(objects),
            )
        await report.step("done", "ok", f"{len(objects)} objects applied")
        return Outcome(ok=True, objects=statuses, inventory=inventory_of(objects))

    async def _ensure_namespace(
        self, objects: list[dict[str, Any]], namespace: str | None, applied: list[dict[str, Any]]
    ) -> str:
        """A namespaced dry run fails in a namespace that does not exist yet, so the namespace
        itself is applied first on a first deployment."""
        ns_obj = next((o for o in objects if o.get("kind") == "Namespace"), None)
        if ns_obj is None or namespace is None:
            return ""
        if await self.api.get(ObjectRef.of(ns_obj)) is not None:
            return ""
        await self.api.apply(ns_obj, None, dry_run=False)
        applied.append(ns_obj)
        return f" (namespace {namespace} created first so the rest could be checked)"

    async def _await_rollouts(
        self, job: Job, namespace: str | None, statuses: list[dict[str, Any]]
    ) -> str:
        """Empty when every workload rolled out in time, else why not."""
        pending = [
            ObjectRef.of(o).model_copy(update={"namespace": ObjectRef.of(o).namespace or namespace})
            for o in job.objects
            if o.get("kind") in ROLLOUT_KINDS
        ]
        deadline = time.monotonic() + self.settings.rollout_timeout_seconds
        said: dict[ObjectRef, str] = {}
        while pending:
            for ref in list(pending):
                live = await self.api.get(ref)
                done, words = rollout_state(live or {})
                if done:
                    pending.remove(ref)
                    _mark(statuses, ref, "ready", words)
                    await job.reporter.step(f"rollout/{ref.name}", "ok", words)
                elif said.get(ref) != words:
                    said[ref] = words
                    await job.reporter.step(f"rollout/{ref.name}", "waiting", words)
            if not pending:
                break
            if time.monotonic() >= deadline:
                late = ", ".join(f"{r.label()} ({said.get(r, '')})" for r in pending)
                for ref in pending:
                    _mark(statuses, ref, "not-ready", said.get(ref, ""))
                return (
                    f"rollout did not finish within {self.settings.rollout_timeout_seconds:g} s: "
                    f"{late}"
                )
            await asyncio.sleep(self.poll_seconds)
        return ""

    async def remove(self, inventory: list[dict[str, Any]]) -> list[str]:
        """Delete what the tenant had: its namespace (and so everything in it) and any
        cluster-scoped object. Returns what was deleted."""
        if not inventory:
            return []
        if not self.configured:
            raise KubeError(NOT_CONFIGURED)
        gone = []
        for ref in refs(inventory):
            if ref.namespace is None and await self.api.delete(ref):
                gone.append(ref.label())
        return gone

    async def cluster_nodes(self) -> dict[str, Any]:
        if not self.configured:
            return {"mode": "prod", "configured": False, "detail": NOT_CONFIGURED, "nodes": []}
        return {"mode": "prod", "configured": True, "nodes": await self.api.nodes()}


def _mark(statuses: list[dict[str, Any]], ref: ObjectRef, status: str, message: str) -> None:
    for entry in statuses:
        if (entry["kind"], entry["name"]) == (ref.kind, ref.name):
            entry.update(status=status, message=message)
