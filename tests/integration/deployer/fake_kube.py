"""A small in-process Kubernetes API server for the official client: discovery, server-side
apply (PATCH application/apply-patch+yaml, with dryRun), get, list by label, delete.

Like a real API server, it refuses namespaced objects in a namespace that does not exist and
keeps resourceVersion unchanged when an apply changes nothing. It has no controllers: a
Deployment's status is what the test sets, or, with `auto_ready`, rolled out at once."""

from __future__ import annotations

import copy
import itertools
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from shared.embedded import free_port

# group/version -> [(plural, kind, namespaced)]
RESOURCES: dict[str, list[tuple[str, str, bool]]] = {
    "v1": [
        ("namespaces", "Namespace", False),
        ("nodes", "Node", False),
        ("configmaps", "ConfigMap", True),
        ("secrets", "Secret", True),
        ("services", "Service", True),
        ("serviceaccounts", "ServiceAccount", True),
        ("resourcequotas", "ResourceQuota", True),
        ("limitranges", "LimitRange", True),
        ("persistentvolumeclaims", "PersistentVolumeClaim", True),
        ("pods", "Pod", True),
    ],
    "apps/v1": [("deployments", "Deployment", True), ("statefulsets", "StatefulSet", True)],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    "networking.k8s.io/v1": [("networkpolicies", "NetworkPolicy", True)],
    "batch/v1": [("cronjobs", "CronJob", True), ("jobs", "Job", True)],
    "rbac.authorization.k8s.io/v1": [
        ("roles", "Role", True),
        ("rolebindings", "RoleBinding", True),
    ],
}
SERVER_FIELDS = ("uid", "creationTimestamp", "resourceVersion", "generation", "managedFields")

Key = tuple[str, str, str, str]  # group/version, plural, namespace ("" when cluster-scoped), name


@dataclass
class Failure:
    method: str
    kind: str
    name: str
    status: int
    times: int
    dry_run: bool | None  # None: dry runs and real calls alike


@dataclass
class Call:
    method: str
    kind: str
    namespace: str
    name: str
    dry_run: bool
    changed: bool = False
    field_manager: str | None = None


@dataclass
class FakeKube:
    auto_ready: bool = True
    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    port: int = 0
    _versions: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    _runner: web.AppRunner | None = None

    # --- what tests use -------------------------------------------------------------------

    def kind_of(self, gv: str, plural: str) -> tuple[str, bool]:
        for name, kind, namespaced in RESOURCES[gv]:
            if name == plural:
                return kind, namespaced
        raise KeyError(plural)

    def find(self, kind: str, name: str, namespace: str = "") -> Any:
        for (gv, plural, ns, obj_name), obj in self.objects.items():
            if self.kind_of(gv, plural)[0] == kind and obj_name == name and ns == namespace:
                return obj
        return None

    def names(self, kind: str, namespace: str = "") -> set[str]:
        return {
            key[3]
            for key in self.objects
            if self.kind_of(key[0], key[1])[0] == kind and key[2] == namespace
        }

    def fail(
        self,
        method: str,
        kind: str,
        name: str,
        status: int = 500,
        times: int = 1,
        dry_run: bool | None = None,
    ) -> None:
        self.failures.append(Failure(method.upper(), kind, name, status, times, dry_run))

    def set_status(self, kind: str, name: str, namespace: str, status: dict[str, Any]) -> None:
        obj = self.find(kind, name, namespace)
        assert obj is not None, f"{kind} {namespace}/{name} does not exist"
        obj["status"] = status

    def write_kubeconfig(self, path: Path) -> Path:
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {"name": "fake", "cluster": {"server": f"http://127.0.0.1:{self.port}"}}
                    ],
                    "users": [{"name": "tester", "user": {"token": "fake-token"}}],
                    "contexts": [
                        {"name": "fake", "context": {"cluster": "fake", "user": "tester"}}
                    ],
                    "current-context": "fake",
                }
            )
        )
        return path

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- the API ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        parts = [p for p in request.path.split("/") if p]
        if parts == ["version"]:
            return web.json_response({"major": "1", "minor": "30", "gitVersion": "v1.30.0"})
        if parts == ["api"]:
            return web.json_response({"kind": "APIVersions", "versions": ["v1"]})
        if parts == ["apis"]:
            return web.json_response(self._groups())
        if parts[:1] == ["api"] and len(parts) >= 2:
            gv, rest = parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            gv, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            return status(404, "NotFound", f"the server could not find {request.path}")
        if gv not in RESOURCES:
            return status(404, "NotFound", f"no API group version {gv}")
        if not rest:
            return web.json_response(self._resource_list(gv))
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        plural, name = rest[0], rest[1] if len(rest) > 1 else ""
        try:
            kind, namespaced = self.kind_of(gv, plural)
        except KeyError:
            return status(404, "NotFound", f"the server doesn't have a resource type {plural}")
        dry_run = request.query.get("dryRun") == "All"
        injected = self._injected(request.method, kind, name, dry_run)
        if injected is not None:
            return injected
        key = (gv, plural, namespace, name)
        if request.method == "GET":
            return (
                self._get(key, kind) if name else self._list(gv, plural, kind, namespace, request)
            )
        if request.method == "PATCH" and name:
            return await self._apply(request, key, kind, namespaced)
        if request.method == "DELETE" and name:
            return self._delete(key, kind)
        return status(405, "MethodNotAllowed", f"{request.method} is not supported by this fake")

    def _groups(self) -> dict[str, Any]:
        groups = []
        for gv in RESOURCES:
            if "/" not in gv:
                continue
            group, version = gv.split("/")
            entry = {"groupVersion": gv, "version": version}
            groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def _resource_list(self, gv: str) -> dict[str, Any]:
        verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
        return {
            "kind": "APIResourceList",
            "groupVersion": gv,
            "resources": [
                {
                    "name": plural,
                    "singularName": kind.lower(),
                    "namespaced": namespaced,
                    "kind": kind,
                    "verbs": verbs,
                }
                for plural, kind, namespaced in RESOURCES[gv]
            ],
        }

    def _injected(self, method: str, kind: str, name: str, dry_run: bool) -> web.Response | None:
        for failure in self.failures:
            if (failure.method, failure.kind, failure.name) == (method, kind, name) and (
                failure.dry_run in (None, dry_run)
            ):
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                return status(failure.status, "InternalError", f"injected failure on {kind} {name}")
        return None

    def _get(self, key: Key, kind: str) -> web.Response:
        obj = self.objects.get(key)
        if obj is None:
            return status(404, "NotFound", f'{kind.lower()}s "{key[3]}" not found')
        self.calls.append(Call("GET", kind, key[2], key[3], False))
        return web.json_response(obj)

    def _list(
        self, gv: str, plural: str, kind: str, namespace: str, request: web.Request
    ) -> web.Response:
        wanted = dict(
            pair.split("=", 1)
            for pair in request.query.get("labelSelector", "").split(",")
            if "=" in pair
        )
        items = [
            obj
            for (g, p, ns, _), obj in self.objects.items()
            if (g, p) == (gv, plural)
            and (not namespace or ns == namespace)
            and all((obj["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
        ]
        return web.json_response(
            {"kind": f"{kind}List", "apiVersion": gv, "metadata": {}, "items": items}
        )

    async def _apply(
        self, request: web.Request, key: Key, kind: str, namespaced: bool
    ) -> web.Response:
        if request.content_type != "application/apply-patch+yaml":
            return status(415, "UnsupportedMediaType", f"{request.content_type} is not apply")
        manager = request.query.get("fieldManager")
        if not manager:
            return status(422, "Invalid", "fieldManager is required for apply patch")
        dry_run = request.query.get("dryRun") == "All"
        body = yaml.safe_load(await request.text())
        _, _, namespace, name = key
        if namespaced and ("v1", "namespaces", "", namespace) not in self.objects:
            return status(404, "NotFound", f'namespaces "{namespace}" not found')
        if body.get("kind") != kind or body.get("metadata", {}).get("name") != name:
            return status(400, "BadRequest", "the body does not match the URL")
        old = self.objects.get(key)
        merged, changed = self._merge(old, body, manager)
        self.calls.append(Call("PATCH", kind, namespace, name, dry_run, changed, manager))
        if not dry_run:
            self.objects[key] = merged
            if self.auto_ready and kind in ("Deployment", "StatefulSet"):
                merged["status"] = ready_status(merged)
        return web.json_response(merged)

    def _merge(
        self, old: dict[str, Any] | None, body: dict[str, Any], manager: str
    ) -> tuple[dict[str, Any], bool]:
        desired = copy.deepcopy(body)
        desired.pop("status", None)
        if old is None:
            meta = desired.setdefault("metadata", {})
            meta.update(
                uid=str(uuid.uuid4()),
                creationTimestamp="2026-01-01T00:00:00Z",
                resourceVersion=str(next(self._versions)),
                generation=1,
                managedFields=[{"manager": manager, "operation": "Apply"}],
            )
            return desired, True
        if _content(old) == _content(desired):
            return copy.deepcopy(old), False
        meta = desired.setdefault("metadata", {})
        for name in SERVER_FIELDS:
            meta[name] = old["metadata"].get(name)
        meta["resourceVersion"] = str(next(self._versions))
        if old.get("spec") != desired.get("spec"):
            meta["generation"] = int(old["metadata"].get("generation") or 1) + 1
        if "status" in old:
            desired["status"] = old["status"]
        return desired, True

    def _delete(self, key: Key, kind: str) -> web.Response:
        if key not in self.objects:
            return status(404, "NotFound", f'{kind.lower()}s "{key[3]}" not found')
        del self.objects[key]
        if kind == "Namespace":
            for other in [k for k in self.objects if k[2] == key[3]]:
                del self.objects[other]
        self.calls.append(Call("DELETE", kind, key[2], key[3], False, True))
        return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Success"})


def _content(obj: dict[str, Any]) -> str:
    meta = {k: v for k, v in obj.get("metadata", {}).items() if k not in SERVER_FIELDS}
    rest = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    return json.dumps({"metadata": meta, **rest}, sort_keys=True)


def ready_status(obj: dict[str, Any]) -> dict[str, Any]:
    replicas = (obj.get("spec") or {}).get("replicas", 1)
    return {
        "observedGeneration": obj["metadata"]["generation"],
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
    }


def status(code: int, reason: str, message: str) -> web.Response:
    return web.json_response(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        },
        status=code,
    )
