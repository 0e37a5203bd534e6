"""A demo tenant from creation to a running deployment, seen over /ws/events and the API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.support.system import RunningSystem

DEMO = {"X-Demo-Mode": "true"}


def tenant_body(tid: str) -> dict[str, Any]:
    return {
        "tenant_id": tid,
        "name": "배포 테스트",
        "service_requirements": {"chatbot": 20},
        "sla_target": {"availability": "99.9%", "response_time": "200ms"},
    }


async def events_until(ws: Any, names: set[str], deployment_id: str | None = None) -> list[dict]:
    seen = []
    async with asyncio.timeout(60):
        while True:
            event = json.loads(await ws.recv())
            seen.append(event)
            matches = deployment_id in (None, event["data"].get("deployment_id"))
            if event["event"] in names and matches:
                return seen


async def wait_status(client: httpx.AsyncClient, tid: str, wanted: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = (await client.get(f"/api/v1/tenants/{tid}")).json()
        if body.get("status") == wanted:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{tid} never became {wanted}: {body}")


async def test_a_demo_tenant_is_deployed_on_creation_and_can_be_redeployed_and_rolled_back(
    system: RunningSystem, database_urls: dict[str, str]
) -> None:
    tid = f"t-{uuid4().hex[:8]}"
    ws_url = system.base_url.replace("http", "ws") + f"/ws/events?demo=true&tenant_id={tid}"
    client = httpx.AsyncClient(base_url=system.base_url, headers=DEMO, timeout=30)
    async with websockets.connect(ws_url) as ws:
        created = await client.post("/api/v1/tenants/", json=tenant_body(tid))
        assert created.status_code in (201, 202), created.text
        seen = await events_until(ws, {"deployment.succeeded", "deployment.failed"})
        names = [e["event"] for e in seen]
        assert names[-1] == "deployment.succeeded", seen[-1]
        assert "deployment.started" in names and "deployment.progress" in names
        assert names.index("manifest.rendered") < names.index("deployment.started")

        tenant = await wait_status(client, tid, "running")
        assert tenant["last_error"] is None
        deployment = (await client.get(f"/api/v1/tenants/{tid}/deployment")).json()
        assert deployment["state"] == "succeeded" and deployment["revision"] == 1
        assert deployment["placement"]["nodes"]
        assert deployment["history"][0]["reason"] == "auto"
        cluster = (await client.get("/api/v1/cluster")).json()
        assert any(tid in node["tenants"] for node in cluster["nodes"])

        # An explicit redeploy answers at once with its id and runs to the end.
        accepted = await client.post(f"/api/v1/tenants/{tid}/deploy")
        assert accepted.status_code == 202, accepted.text
        deployment_id = accepted.json()["deployment_id"]
        await events_until(ws, {"deployment.succeeded"}, deployment_id)
        await wait_status(client, tid, "running")

        # While the read model shows a deployment under way, another one is refused. Rollouts
        # take no time here, so the test puts the tenant in that state itself.
        db = await asyncpg.connect(database_urls["demo"])
        update = "UPDATE gateway.tenants SET status = $2 WHERE tenant_id = $1"
        await db.execute(update, tid, "deploying")
        busy = await client.post(f"/api/v1/tenants/{tid}/deploy", json={})
        await db.execute(update, tid, "running")
        await db.close()
        assert busy.status_code == 409 and busy.json()["code"] == "DEPLOYMENT_IN_PROGRESS"

        # Nothing earlier succeeded on another revision, so the rollback fails and says why.
        rollback = await client.post(f"/api/v1/tenants/{tid}/rollback")
        assert rollback.status_code == 202
        rollback_id = rollback.json()["deployment_id"]
        seen = await events_until(ws, {"deployment.failed", "deployment.rolled-back"}, rollback_id)
        assert seen[-1]["event"] == "deployment.failed"
        assert "no earlier successful revision" in seen[-1]["data"]["reason"]
        # The read model follows: the tenant is failed, with the reason.
        failed = await wait_status(client, tid, "failed")
        assert "no earlier successful revision" in failed["last_error"]

    deleted = await client.delete(f"/api/v1/tenants/{tid}")
    assert deleted.status_code in (200, 202)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        nodes = (await client.get("/api/v1/cluster")).json()["nodes"]
        if not any(tid in node["tenants"] for node in nodes):
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError("the deleted tenant still holds capacity")


def test_deploying_an_unknown_tenant_is_a_404(system: RunningSystem) -> None:
    reply = httpx.post(
        f"{system.base_url}/api/v1/tenants/t-missing-{uuid4().hex[:6]}/deploy", headers=DEMO
    )
    assert reply.status_code == 404 and reply.json()["code"] == "TENANT_NOT_FOUND"


async def test_a_client_of_one_aggregate_gets_each_event_once_and_a_bad_filter_is_refused(
    system: RunningSystem,
) -> None:
    base = system.base_url.replace("http", "ws") + "/ws/events?demo=true"
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(base + "&events=deployment.>"):
            pass
    assert refused.value.response.status_code == 403

    tid = f"t-{uuid4().hex[:8]}"
    client = httpx.AsyncClient(base_url=system.base_url, headers=DEMO, timeout=30)
    # deployment.succeeded is also one of deployment.*: it must still come once.
    wanted = "deployment.*,deployment.succeeded"
    async with websockets.connect(f"{base}&tenant_id={tid}&events={wanted}") as ws:
        created = await client.post("/api/v1/tenants/", json=tenant_body(tid))
        assert created.status_code in (201, 202), created.text
        seen = await events_until(ws, {"deployment.succeeded", "deployment.failed"})
        with contextlib.suppress(TimeoutError):
            while True:  # whatever else comes in the next half second
                seen.append(json.loads(await asyncio.wait_for(ws.recv(), 0.5)))
    names = [event["event"] for event in seen]
    assert {name.split(".")[0] for name in names} == {"deployment"}
    assert names.count("deployment.succeeded") == 1 and names.count("deployment.started") == 1
    assert "deployment.progress" in names
    await client.delete(f"/api/v1/tenants/{tid}")
    await client.aclose()
