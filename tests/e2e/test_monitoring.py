"""Monitoring through the whole system: the seed's push client, the WebSocket, the query, restarts."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import nats
import pytest
import requests
import websockets

from shared import subjects
from shared.contracts.metrics import MetricBatch, Sample
from shared.modes import Mode

pytestmark = pytest.mark.e2e

DEMO = {"X-Demo-Mode": "true"}


class ECPMonitoringClient:
    """The seed guide's client, as written there."""

    def __init__(self, base_url, is_demo=False):
        self.base_url = base_url
        self.headers = {"Content-Type": "application/json", "X-Demo-Mode": str(is_demo).lower()}

    def send_metrics(self, tenant_id, metrics):
        endpoint = f"{self.base_url}/tenants/{tenant_id}/monitoring"

        payload = {"timestamp": datetime.utcnow().isoformat(), "metrics": metrics}

        response = requests.post(endpoint, headers=self.headers, json=payload)
        return response.json()


SEED_METRICS = {
    "cpu_usage": 65.5,
    "memory_usage": 78.2,
    "gpu_usage": 85.0,
    "request_count": 1250,
    "response_time": 145.8,
}


def create_demo_tenant(system) -> str:
    tenant_id = f"t-{uuid4().hex[:8]}"
    reply = httpx.post(
        f"{system.base_url}/api/v1/tenants/",
        headers=DEMO,
        json={"tenant_id": tenant_id, "name": "모니터링", "service_requirements": {"chatbot": 10}},
        timeout=30,
    )
    assert reply.status_code in (201, 202), reply.text
    return tenant_id


async def pushed_message(ws) -> dict:
    """The next message from a push (the demo generator also writes for demo tenants)."""
    while True:
        data = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        if data["source"] == "push":
            return data


def query(system, tenant_id, **params) -> dict:
    reply = httpx.get(
        f"{system.base_url}/api/v1/tenants/{tenant_id}/monitoring",
        headers=DEMO,
        params=params,
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def wait_for(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


async def test_seed_client_push_reaches_websocket_and_query(system):
    tenant_id = create_demo_tenant(system)
    ws_url = system.base_url.replace("http", "ws") + f"/ws/monitoring/{tenant_id}?demo=true"
    async with websockets.connect(ws_url) as ws:
        await ws.send(
            json.dumps(
                {"action": "subscribe", "tenant_id": tenant_id, "metrics": ["cpu", "memory", "gpu"]}
            )
        )
        await asyncio.sleep(0.2)  # the subscribe message is read before the push arrives
        client = ECPMonitoringClient(f"{system.base_url}/api/v1", is_demo=True)
        result = await asyncio.to_thread(client.send_metrics, tenant_id, SEED_METRICS)
        assert result["accepted"] == 5
        assert result["tenant_id"] == tenant_id
        data = await pushed_message(ws)
    assert (data["cpu"], data["memory"], data["gpu"]) == (65.5, 78.2, 85.0)
    assert data["tenant_id"] == tenant_id
    assert "request_count" not in data  # the subscription asked for cpu, memory and gpu only

    # A demo tenant is deployed at once, so the demo generator writes beside the pushed samples.
    answer = wait_for(lambda: query(system, tenant_id, metric_type="cpu", source="push")["points"])
    assert answer
    stored = query(system, tenant_id, metric_type="cpu", hours=1, source="push")
    assert stored["resolution"] == "raw"
    assert [p["value"] for p in stored["metrics"]["cpu_usage"]] == [65.5]
    everything = query(system, tenant_id, hours=24, source="push")
    assert everything["resolution"] == "bucket" and everything["bucket_seconds"] == 300
    assert set(everything["metrics"]) == set(SEED_METRICS)
    assert everything["metrics"]["request_count"][0]["max"] == 1250


def test_websocket_without_subscribe_gets_every_metric_with_seed_names(system):
    tenant_id = create_demo_tenant(system)

    async def scenario() -> dict:
        url = system.base_url.replace("http", "ws") + f"/ws/monitoring/{tenant_id}"
        async with websockets.connect(url, additional_headers=DEMO) as ws:
            await asyncio.sleep(0.2)
            async with httpx.AsyncClient() as client:
                reply = await client.post(
                    f"{system.base_url}/api/v1/tenants/{tenant_id}/monitoring",
                    headers=DEMO,
                    json={"metrics": {"cpu": 12.0, "memory_usage": 40.0, "queue_depth": 3}},
                )
                assert reply.status_code == 202
            first = await pushed_message(ws)
            with pytest.raises(TimeoutError):  # shown once, not again when the broker has it
                await asyncio.wait_for(pushed_message(ws), timeout=1.0)
            return first

    data = asyncio.run(scenario())
    # Both names of a metric carry the push's value, even when the demo load of this (deployed)
    # demo tenant reported the other name before the push.
    assert data["cpu"] == data["cpu_usage"] == 12.0
    assert data["memory"] == data["memory_usage"] == 40.0
    # Always present: None while never reported, else the demo load's figure under both names.
    assert "gpu" in data and data["gpu"] == data.get("gpu_usage")
    assert data["queue_depth"] == 3
    assert data["metrics"] == {"cpu": 12.0, "memory_usage": 40.0, "queue_depth": 3}


def test_bad_samples_are_refused_naming_the_sample(system):
    tenant_id = create_demo_tenant(system)
    url = f"{system.base_url}/api/v1/tenants/{tenant_id}/monitoring"
    cases = [
        ({"metrics": {"cpu_usage": -5}}, "metrics.cpu_usage"),
        ({"metrics": {"request_count": 2e12}}, "metrics.request_count"),
        ({"metrics": {"cpu_usage": 1}, "timestamp": _iso(hours=1)}, "timestamp"),
        ({"metrics": {"cpu_usage": 1}, "timestamp": _iso(days=-40)}, "timestamp"),
    ]
    for body, offending in cases:
        reply = httpx.post(url, headers=DEMO, json=body)
        assert reply.status_code == 422, (body, reply.text)
        assert reply.json()["errors"][0]["sample"] == offending
    nan = httpx.post(
        url,
        headers={**DEMO, "Content-Type": "application/json"},
        content=json.dumps({"metrics": {"gpu_usage": math.nan}}),
    )
    assert nan.status_code == 422 and "gpu_usage" in nan.json()["detail"]
    missing = httpx.post(
        f"{system.base_url}/api/v1/tenants/t-nobody-{uuid4().hex[:6]}/monitoring",
        headers=DEMO,
        json={"metrics": {"cpu_usage": 1}},
    )
    assert missing.status_code == 404 and missing.json()["code"] == "TENANT_NOT_FOUND"


def _iso(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).replace(tzinfo=None).isoformat()


def test_batch_form_splits_samples_per_tenant(system):
    first, second = create_demo_tenant(system), create_demo_tenant(system)
    now = datetime.now(UTC).isoformat()
    samples = [
        {"tenant_id": tenant, "name": "cpu_usage", "value": 10.0 + pod, "timestamp": now,
         "labels": {"pod": f"callbot-{pod}", "service": "callbot"}}
        for tenant in (first, second)
        for pod in range(3)
    ]  # fmt: skip
    reply = httpx.post(
        f"{system.base_url}/api/v1/monitoring/batch", headers=DEMO, json={"samples": samples}
    )
    assert reply.status_code == 202, reply.text
    body = reply.json()
    assert body["accepted"] == 6
    assert sorted(t["tenant_id"] for t in body["tenants"]) == sorted([first, second])
    for tenant in (first, second):
        stored = wait_for(
            lambda t=tenant: query(system, t, metric_type="cpu", source="push")["points"] == 3
        )
        assert stored
        points = query(system, tenant, metric_type="cpu", source="push")["metrics"]["cpu_usage"]
        assert sorted(p["labels"]["pod"] for p in points) == ["callbot-0", "callbot-1", "callbot-2"]


def test_gateway_metrics_expose_latest_values_per_tenant(system):
    tenant_id = create_demo_tenant(system)
    client = ECPMonitoringClient(f"{system.base_url}/api/v1", is_demo=True)
    client.send_metrics(tenant_id, {"cpu_usage": 33.5})

    def exposed() -> bool:
        text = httpx.get(f"{system.base_url}/metrics").text
        return f'ecp_tenant_cpu_usage{{mode="demo",tenant_id="{tenant_id}"}} 33.5' in text

    assert wait_for(exposed, timeout=10)


def test_nothing_is_lost_while_the_monitor_restarts(system):
    tenant_id = create_demo_tenant(system)
    client = ECPMonitoringClient(f"{system.base_url}/api/v1", is_demo=True)
    sent = 0
    refused: list[dict] = []
    stop = threading.Event()

    def keep_sending() -> None:
        nonlocal sent
        while not stop.is_set():
            answer = client.send_metrics(tenant_id, {"request_count": sent})
            if answer.get("accepted") != 1:
                refused.append(answer)
                return
            sent += 1
            time.sleep(0.01)

    pusher = threading.Thread(target=keep_sending)
    pusher.start()
    try:
        time.sleep(1.0)
        system.stop_service("monitor")
        time.sleep(2.0)
        system.start_service("monitor")
        system.wait_ready()
        time.sleep(1.0)
    finally:
        stop.set()
        pusher.join()
    assert not refused
    assert sent > 100

    def all_stored() -> bool:
        return query(system, tenant_id, metric_type="requests", source="push")["points"] == sent

    assert wait_for(all_stored, timeout=30), (sent, query(system, tenant_id, source="push"))
    stored = query(system, tenant_id, source="push")["metrics"]["request_count"]
    values = [p["value"] for p in stored]
    assert sorted(values) == [float(n) for n in range(sent)]


def test_demo_generator_writes_for_a_new_demo_tenant_as_its_deployment_stands(system):
    tenant_id = create_demo_tenant(system)

    def generated() -> list[float]:
        answer = query(system, tenant_id, metric_type="cpu", source="demo")
        return [p["value"] for p in answer["metrics"].get("cpu_usage", [])]

    assert wait_for(generated, timeout=60), "no demo sample within a minute"
    status = httpx.get(f"{system.base_url}/api/v1/tenants/{tenant_id}", headers=DEMO).json()
    if status["status"] == "running":
        assert wait_for(lambda: any(value > 0 for value in generated()), timeout=40)
    else:  # nothing deployed: nothing runs, nothing is used
        assert set(generated()) == {0.0}, status["status"]


def test_push_fast_path_answers_as_the_declared_routes_do(system):
    """A JSON POST is answered before routing (services/gateway/pushes.py); another JSON media
    type goes through FastAPI's route. Both must give the same answers."""
    tenant_id = create_demo_tenant(system)
    seed_url = f"{system.base_url}/api/v1/tenants/{tenant_id}/monitoring"
    batch_url = f"{system.base_url}/api/v1/monitoring/batch"
    cases = [
        (seed_url, b'{"metrics": {"cpu_usage": 12.5}}'),
        (seed_url, b'{"metrics": {"cpu_usage": 120}}'),
        (seed_url, b'{"timestamp": "2026-01-01T00:00:00"}'),
        (seed_url, b'{"metrics": {"cpu_usage": 1}, "extra": 1}'),
        (seed_url, b'{"metrics": '),
        (f"{system.base_url}/api/v1/tenants/t-nobody-x1/monitoring", b'{"metrics": {"a": 1}}'),
        (
            batch_url,
            json.dumps(
                {"samples": [{"tenant_id": tenant_id, "name": "cpu_usage", "value": 3.0}]}
            ).encode(),
        ),
        (batch_url, b'{"samples": [{"name": "cpu_usage", "value": 3.0}]}'),
        (batch_url, b'{"samples": []}'),
    ]
    for url, body in cases:
        fast, routed = (
            httpx.post(url, headers={**DEMO, "Content-Type": media}, content=body)
            for media in ("application/json", "application/x-ecp+json")
        )
        assert fast.status_code == routed.status_code, (body, fast.text, routed.text)
        if fast.status_code == 202:
            assert fast.json()["accepted"] == routed.json()["accepted"] == 1
            continue
        one, other = fast.json(), routed.json()
        assert one["code"] == other["code"] and one["detail"] == other["detail"], (one, other)
        assert [e.get("loc") for e in one.get("errors", [])] == [
            e.get("loc") for e in other.get("errors", [])
        ], (one, other)


async def test_websocket_shows_what_other_publishers_send(system):
    """The gateway hears its own pushes through itself, everyone else's (other gateways, the
    puller, the demo generator) through the broker."""
    tenant_id = create_demo_tenant(system)
    batch = MetricBatch(
        tenant_id=tenant_id,
        batch_id=f"other:{uuid4().hex}",
        source="pull",
        samples=[Sample(name="cpu_usage", value=33.0, timestamp=datetime.now(UTC))],
    )
    url = system.base_url.replace("http", "ws") + f"/ws/monitoring/{tenant_id}"
    async with websockets.connect(url, additional_headers=DEMO) as ws:
        await asyncio.sleep(0.2)
        connection = await nats.connect(system.env["ECP_NATS_URL"])
        try:
            await connection.jetstream().publish(
                subjects.metrics(Mode.demo, tenant_id), batch.model_dump_json().encode()
            )
        finally:
            await connection.close()
        while True:
            data = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            if data["source"] == "pull":
                break
    assert (data["cpu"], data["batch_id"]) == (33.0, batch.batch_id)
