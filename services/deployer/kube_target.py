"""Prod deployments: server-side apply to a real Kubernetes API with the official client.

The client is synchronous, so every call runs in a worker thread (`asyncio.to_thread`)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

from services.deployer.job import Job, Outcome, object_status
from services.deployer.policy import (
    FIELD_MANAGER,
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

log = logging.getLogger(__name__)
T = TypeVar("T")

NOT_CONFIGURED = (
    "no Kubernetes cluster is configured for prod: set ECP_KUBERNETES_CONFIG_PATH to a kubeconfig "
    "or ECP_KUBERNETES_IN_CLUSTER=true; a prod deployment never falls back to the simulation"
)


class KubeError(Exception):
    """A call to the Kubernetes API that failed; the message says which object and why."""


def describe(error: BaseException) -> str:
    """The API server's own message when it gave one, else the error's text."""
    if isinstance(error, ApiException):
        message = error.reason or ""
        try:
            body = json.loads(error.body or "{}")
            message = body.get("message") or message
        except (TypeError, ValueError):
            message = error.body or message
        return f"HTTP {error.status}: {message}"
    return f"{type(error).__name__}: {error}"


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
    """One connection to the cluster named in the settings, made on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: DynamicClient | None = None
        self._lock = threading.Lock()
        self.poll_seconds = min(1.0, max(settings.rollout_timeout_seconds / 20, 0.05))

    @property
    def configured(self) -> bool:
        return bool(self.settings.kubernetes_config_path or self.settings.kubernetes_in_cluster)

    def _connect(self) -> DynamicClient:
        with self._lock:
            if self._client is None:
                if self.settings.kubernetes_config_path:
                    api = k8s_config.new_client_from_config(
                        config_file=self.settings.kubernetes_config_path, persist_config=False
                    )
                else:
                    configuration = k8s.Configuration()
                    k8s_config.load_incluster_config(client_configuration=configuration)
                    api = k8s.ApiClient(configuration)
                self._client = DynamicClient(api)
            return self._client

    async def _call(self, what: str, fn: Callable[[DynamicClient], T]) -> T:
        def work() -> T:
            return fn(self._connect())

        try:
            return await asyncio.to_thread(work)
        except KubeError:
            raise
        except Exception as error:
            raise KubeError(f"{what}: {describe(error)}") from error

    async def _apply(self, obj: dict[str, Any], namespace: str | None, dry_run: bool) -> Any:
        ref = ObjectRef.of(obj)

        def apply(dyn: DynamicClient) -> Any:
            resource = dyn.resources.get(api_version=ref.apiVersion, kind=ref.kind)
            return resource.server_side_apply(
                body=obj,
                name=ref.name,
                namespace=(ref.namespace or namespace) if resource.namespaced else None,
                field_manager=FIELD_MANAGER,
                force_conflicts=True,
                dry_run="All" if dry_run else None,
            )

        verb = "dry-run of" if dry_run else "apply of"
        return await self._call(f"{verb} {ref.label()}", apply)

    async def _get(self, ref: ObjectRef) -> dict[str, Any] | None:
        def get(dyn: DynamicClient) -> dict[str, Any] | None:
            resource = dyn.resources.get(api_version=ref.apiVersion, kind=ref.kind)
            try:
                found = resource.get(name=ref.name, namespace=ref.namespace)
            except NotFoundError:
                return None
            return dict(found.to_dict())

        return await self._call(f"read of {ref.label()}", get)

    async def _delete(self, ref: ObjectRef) -> bool:
        def delete(dyn: DynamicClient) -> bool:
            try:
                resource = dyn.resources.get(api_version=ref.apiVersion, kind=ref.kind)
                resource.delete(
                    name=ref.name, namespace=ref.namespace, propagation_policy="Foreground"
                )
            except (NotFoundError, ResourceNotFoundError):
                return False
            return True

        return await self._call(f"delete of {ref.label()}", delete)

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
            await self._apply(obj, namespace, dry_run=True)
        await report.step("dry-run", "ok", f"the API server accepts all {len(objects)}{note}")

        statuses = []
        for step, group in apply_steps(objects):
            await report.step(step, "started")
            for obj in group:
                result = await self._apply(obj, namespace, dry_run=False)
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
                await self._delete(ref)
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
        if await self._get(ObjectRef.of(ns_obj)) is not None:
            return ""
        await self._apply(ns_obj, None, dry_run=False)
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
                live = await self._get(ref)
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
            if ref.namespace is None and await self._delete(ref):
                gone.append(ref.label())
        return gone

    async def cluster_nodes(self) -> dict[str, Any]:
        if not self.configured:
            return {"mode": "prod", "configured": False, "detail": NOT_CONFIGURED, "nodes": []}

        def nodes(dyn: DynamicClient) -> list[dict[str, Any]]:
            found = dyn.resources.get(api_version="v1", kind="Node").get()
            return [
                {
                    "node": item["metadata"]["name"],
                    "capacity": dict(item.get("status", {}).get("capacity") or {}),
                    "allocatable": dict(item.get("status", {}).get("allocatable") or {}),
                }
                for item in found.to_dict().get("items", [])
            ]

        return {"mode": "prod", "configured": True, "nodes": await self._call("list nodes", nodes)}


def _mark(statuses: list[dict[str, Any]], ref: ObjectRef, status: str, message: str) -> None:
    for entry in statuses:
        if (entry["kind"], entry["name"]) == (ref.kind, ref.name):
            entry.update(status=status, message=message)
