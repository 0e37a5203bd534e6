"""The Kubernetes API as the deployer calls it: the official client's dynamic client, connected on
first use from the kubeconfig or in-cluster credentials of the settings.

The client is synchronous, so every call runs in a worker thread (`asyncio.to_thread`)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

from services.deployer.policy import FIELD_MANAGER, ObjectRef
from shared.settings import Settings

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


class KubeApi:
    """One connection to the cluster named in the settings, made on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: DynamicClient | None = None
        self._lock = threading.Lock()

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

    async def call(self, what: str, fn: Callable[[DynamicClient], T]) -> T:
        def work() -> T:
            return fn(self._connect())

        try:
            return await asyncio.to_thread(work)
        except KubeError:
            raise
        except Exception as error:
            raise KubeError(f"{what}: {describe(error)}") from error

    async def apply(self, obj: dict[str, Any], namespace: str | None, dry_run: bool) -> Any:
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
        return await self.call(f"{verb} {ref.label()}", apply)

    async def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        def get(dyn: DynamicClient) -> dict[str, Any] | None:
            resource = dyn.resources.get(api_version=ref.apiVersion, kind=ref.kind)
            try:
                found = resource.get(name=ref.name, namespace=ref.namespace)
            except NotFoundError:
                return None
            return dict(found.to_dict())

        return await self.call(f"read of {ref.label()}", get)

    async def delete(self, ref: ObjectRef) -> bool:
        def delete(dyn: DynamicClient) -> bool:
            try:
                resource = dyn.resources.get(api_version=ref.apiVersion, kind=ref.kind)
                resource.delete(
                    name=ref.name, namespace=ref.namespace, propagation_policy="Foreground"
                )
            except (NotFoundError, ResourceNotFoundError):
                return False
            return True

        return await self.call(f"delete of {ref.label()}", delete)

    async def nodes(self) -> list[dict[str, Any]]:
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

        return await self.call("list nodes", nodes)
