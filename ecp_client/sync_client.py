"""`ECPClient`: the whole HTTP and WebSocket API, synchronously (httpx and websockets)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx

from ecp_client import calls, live
from ecp_client.answers import (
    BUSY_PAUSES,
    MANIFEST_NOT_READY,
    RETRY_SECONDS,
    busy,
    read,
    request_args,
    unreachable,
)
from ecp_client.demo_metrics import sample_metrics_for
from ecp_client.errors import ECPError

DEFAULT_BASE_URL = "http://localhost:8001/api/v1"


class ECPClient:
    """`ECPClient(base_url="http://localhost:8001/api/v1", is_demo=True, api_key=None)`.

    Demo mode may be used without a key; prod needs one (the server answers UNAUTHORIZED
    otherwise). Every method returns the API's JSON as dicts and lists (YAML as text) and raises
    `ECPError` for an error answer or an unreachable server."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        is_demo: bool = True,
        api_key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.root, self.api = calls.split_base_url(base_url)
        self.is_demo, self.api_key = is_demo, api_key
        self.headers = calls.mode_headers(is_demo, api_key)
        self.http = httpx.Client(headers=self.headers, timeout=timeout, transport=transport)

    def __enter__(self) -> ECPClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def call(self, call: calls.Call) -> Any:
        args = request_args(call, self.root, self.api)
        for pause in (*BUSY_PAUSES, None):
            try:
                response = self.http.request(**args)
            except httpx.HTTPError as error:
                raise unreachable(error, args["url"]) from error
            if pause is None or not busy(call, response):
                break
            time.sleep(pause)
        return read(call, response)

    # Tenants and sizing -------------------------------------------------------------------
    def list_tenants(
        self, skip: int = 0, limit: int = 100, status: str | None = None, preset: str | None = None
    ) -> dict[str, Any]:
        return self.call(calls.list_tenants(skip, limit, status, preset))

    def create_tenant(self, spec: dict[str, Any]) -> dict[str, Any]:
        """201 with the sized tenant, or 202 `{tenant_id, status: pending, ...}` while sizing runs."""
        return self.call(calls.create_tenant(spec))

    def get_tenant(self, tenant_id: str) -> dict[str, Any]:
        return self.call(calls.get_tenant(tenant_id))

    def update_tenant(self, tenant_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self.call(calls.update_tenant(tenant_id, changes))

    def delete_tenant(self, tenant_id: str) -> dict[str, Any]:
        return self.call(calls.delete_tenant(tenant_id))

    def calculate_resources(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self.call(calls.calculate_resources(spec))

    # Manifests ------------------------------------------------------------------------------
    def get_manifest(
        self,
        tenant_id: str,
        format: str = "yaml",
        include_monitoring: bool = False,
        revision: int | None = None,
        wait: float = 30.0,
    ) -> Any:
        """The multi-document YAML (text), or with `format="json"` a List object. A manifest
        still being rendered (MANIFEST_NOT_READY) is waited for up to `wait` seconds."""
        call = calls.get_manifest(tenant_id, format, include_monitoring, revision)
        deadline = time.monotonic() + wait
        while True:
            try:
                return self.call(call)
            except ECPError as error:
                if error.code != MANIFEST_NOT_READY or time.monotonic() >= deadline:
                    raise
            time.sleep(RETRY_SECONDS)

    def manifest_revisions(self, tenant_id: str) -> dict[str, Any]:
        return self.call(calls.manifest_revisions(tenant_id))

    def manifest_diff(
        self, tenant_id: str, from_revision: int | None = None, to_revision: int | None = None
    ) -> dict[str, Any]:
        return self.call(calls.manifest_diff(tenant_id, from_revision, to_revision))

    def validate_manifest(self, manifest_text: str, tenant_id: str | None = None) -> dict[str, Any]:
        """`{valid, warnings, errors, resource_summary}`; the tenant is read from the manifest's
        Namespace when not given."""
        return self.call(calls.validate_manifest(manifest_text, tenant_id))

    # Deployments ----------------------------------------------------------------------------
    def deploy(self, tenant_id: str, revision: int | None = None) -> dict[str, Any]:
        return self.call(calls.deploy(tenant_id, revision))

    def get_deployment(self, tenant_id: str) -> dict[str, Any]:
        return self.call(calls.deployment(tenant_id))

    def rollback(self, tenant_id: str, to_revision: int | None = None) -> dict[str, Any]:
        return self.call(calls.rollback(tenant_id, to_revision))

    def cluster(self) -> dict[str, Any]:
        return self.call(calls.cluster())

    # Metrics --------------------------------------------------------------------------------
    def push_metrics(
        self,
        tenant_id: str,
        metrics: dict[str, float],
        timestamp: datetime | None = None,
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return self.call(calls.push_metrics(tenant_id, metrics, timestamp, labels))

    def push_batch(
        self, samples: list[dict[str, Any]], tenant_id: str | None = None
    ) -> dict[str, Any]:
        return self.call(calls.push_batch(samples, tenant_id))

    def send_test_metrics(self, tenant_id: str) -> dict[str, Any]:
        """Push cpu/memory/gpu usage, request_count and response_time for a demo tenant, derived
        from the tenant (its id, size and GPUs), the same values every time."""
        if not self.is_demo:
            raise ValueError(
                "send_test_metrics is for demo mode: it would put made-up data in prod"
            )
        metrics = sample_metrics_for(self.get_tenant(tenant_id))
        return self.push_metrics(tenant_id, metrics, labels={"source": "ecp-client-test"})

    def query_metrics(
        self,
        tenant_id: str,
        metric_type: str | None = None,
        hours: float = 1.0,
        source: str | None = None,
    ) -> dict[str, Any]:
        return self.call(calls.query_metrics(tenant_id, metric_type, hours, source))

    def live_metrics(
        self,
        tenant_id: str,
        metrics: list[str] | None = None,
        limit: int | None = None,
        idle_timeout: float | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Live samples over `/ws/monitoring/{tenant_id}` (`cpu`, `memory`, `gpu` and the rest),
        until `limit` messages or `idle_timeout` seconds without one."""
        url = live.monitoring_url(calls.ws_root(self.root), tenant_id)
        first = live.subscribe_message(tenant_id, metrics)
        return live.stream(url, self.headers, first, limit, idle_timeout)

    def events(
        self,
        tenant_id: str | None = None,
        limit: int | None = None,
        idle_timeout: float | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The mode's events over `/ws/events` (`{event, mode, tenant_id, data}`)."""
        url = live.events_url(calls.ws_root(self.root), tenant_id)
        return live.stream(url, self.headers, None, limit, idle_timeout)

    # Alerts ---------------------------------------------------------------------------------
    def create_alert(self, tenant_id: str, rule: dict[str, Any]) -> dict[str, Any]:
        return self.call(calls.create_alert(tenant_id, rule))

    def list_alerts(self, tenant_id: str) -> Any:
        return self.call(calls.list_alerts(tenant_id))

    def get_alert(self, tenant_id: str, rule: str) -> dict[str, Any]:
        return self.call(calls.get_alert(tenant_id, rule))

    def replace_alert(self, tenant_id: str, rule: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call(calls.replace_alert(tenant_id, rule, body))

    def change_alert(self, tenant_id: str, rule: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self.call(calls.change_alert(tenant_id, rule, changes))

    def delete_alert(self, tenant_id: str, rule: str) -> Any:
        return self.call(calls.delete_alert(tenant_id, rule))

    def alert_history(self, tenant_id: str, rule: str | None = None, limit: int = 100) -> Any:
        return self.call(calls.alert_history(tenant_id, rule, limit))

    def notifications(self, tenant_id: str, limit: int = 100) -> Any:
        return self.call(calls.notifications(tenant_id, limit))

    def export_alerts(self, tenant_id: str, format: str = "prometheus") -> str:
        return self.call(calls.export_alerts(tenant_id, format))

    def create_silence(self, tenant_id: str, silence: dict[str, Any]) -> dict[str, Any]:
        return self.call(calls.create_silence(tenant_id, silence))

    def list_silences(self, tenant_id: str) -> Any:
        return self.call(calls.list_silences(tenant_id))

    def expire_silence(self, tenant_id: str, silence_id: str) -> Any:
        return self.call(calls.expire_silence(tenant_id, silence_id))

    # Keys, dead letters, health ---------------------------------------------------------------
    def create_key(
        self, name: str, role: str = "viewer", mode: str | None = None
    ) -> dict[str, Any]:
        """A new API key (admin only); `api_key` is shown in this answer and never again."""
        return self.call(calls.create_key(name, role, mode))

    def list_keys(self) -> list[dict[str, Any]]:
        return self.call(calls.list_keys())

    def revoke_key(self, key_id: str) -> dict[str, Any]:
        return self.call(calls.revoke_key(key_id))

    def list_dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.call(calls.list_dead_letters(limit))

    def replay_dead_letter(self, sequence: int) -> dict[str, Any]:
        return self.call(calls.replay_dead_letter(sequence))

    def health(self) -> dict[str, Any]:
        return self.call(calls.health())

    def readiness(self) -> dict[str, Any]:
        return self.call(calls.readiness())
