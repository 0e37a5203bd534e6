"""The broker or the database briefly gone: a system whose NATS server restarts (JetStream keeps
its streams on disk), or whose PostgreSQL server restarts, deploys the tenant created before and
the one created once it is back, neither twice; a request refused meanwhile is a 503 with a
stable code and leaves nothing behind, not even later. Each system here is the test's own, on
servers of its own, so restarting them touches no other test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from shared.embedded import NatsServer, PostgresServer, free_port
from tests.conftest import environment_for
from tests.support.clients import client, headers, tenant_body, tenant_id
from tests.support.servers import Servers, fresh_databases
from tests.support.system import RunningSystem

DEMO = headers(True)


async def deployment_of(http: httpx.AsyncClient, tid: str, timeout: float = 60) -> dict[str, Any]:
    """The tenant's deployment once it has succeeded."""
    deadline = time.monotonic() + timeout
    answer: dict[str, Any] = {}
    while time.monotonic() < deadline:
        reply = await http.get(f"/api/v1/tenants/{tid}/deployment", headers=DEMO)
        answer = reply.json() if reply.status_code == 200 else {"status": reply.status_code}
        if answer.get("state") == "succeeded":
            return answer
        await asyncio.sleep(0.2)
    raise AssertionError(f"{tid} was not deployed: {answer}")


async def create(http: httpx.AsyncClient, tid: str, timeout: float = 60) -> None:
    """POST the tenant, again while the gateway answers that a server is unavailable."""
    deadline = time.monotonic() + timeout
    while True:
        reply = await http.post("/api/v1/tenants/", json=tenant_body(tid), headers=DEMO)
        if reply.status_code in (201, 202) or time.monotonic() > deadline:
            break
        assert reply.status_code == 503, reply.text
        await asyncio.sleep(0.5)
    assert reply.status_code in (201, 202), reply.text


async def across_a_restart(
    http: httpx.AsyncClient,
    stop: Callable[[], None],
    start: Callable[[], None],
    while_down: Callable[[httpx.AsyncClient, str], Any],
) -> str:
    """A tenant created and deployed, the server stopped, `while_down` run (given the tenant),
    the server started, a second tenant created; both must be deployed exactly once. Returns
    the first tenant."""
    before = tenant_id("before")
    await create(http, before)
    await deployment_of(http, before)
    stop()
    await asyncio.sleep(2)  # long enough for every service to see it gone
    await while_down(http, before)
    start()
    after = tenant_id("after")
    await create(http, after)
    deployments = {tid: await deployment_of(http, tid) for tid in (before, after)}
    await asyncio.sleep(3)  # time for a duplicate, or a refused request, to show
    for tid in (before, after):
        history = (await deployment_of(http, tid))["history"]
        assert [d["revision"] for d in history] == [1], history
        assert history[0]["deployment_id"] == deployments[tid]["deployment"]["deployment_id"]
    return before


def started_system(nats_url: str, database_urls: dict[str, str], tmp_path: Path) -> RunningSystem:
    (tmp_path / "logs").mkdir()
    system = RunningSystem(environment_for(nats_url, database_urls), tmp_path / "logs")
    try:
        system.start()
    except BaseException:
        system.stop()
        raise
    return system


async def test_a_broker_restart_loses_no_tenant_and_deploys_none_twice(
    servers: Servers, tmp_path: Path
) -> None:
    nats = NatsServer(free_port(), free_port(), tmp_path / "nats")
    nats.start(tmp_path / "nats.log")
    refused = tenant_id("refused")

    async def while_down(http: httpx.AsyncClient, before: str) -> None:
        created = await http.post("/api/v1/tenants/", json=tenant_body(refused), headers=DEMO)
        assert created.status_code == 503 and created.json()["code"] == "BROKER_UNAVAILABLE"
        renamed = await http.patch(f"/api/v1/tenants/{before}", json={"name": "x"}, headers=DEMO)
        assert renamed.status_code == 503 and renamed.json()["code"] == "BROKER_UNAVAILABLE"
        pushed = await http.post(
            f"/api/v1/tenants/{before}/monitoring",
            json={"metrics": {"cpu_usage": 42.5}},
            headers=DEMO,
        )
        assert pushed.status_code == 503 and pushed.json()["code"] == "BROKER_UNAVAILABLE"

    try:
        async with fresh_databases(servers.postgres_admin_url, "ecp_broker") as urls:
            system = started_system(nats.url, urls, tmp_path)
            try:
                async with client(system.base_url) as http:
                    before = await across_a_restart(
                        http, nats.stop, lambda: nats.start(tmp_path / "nats.log"), while_down
                    )
                    nodes = (await http.get("/api/v1/cluster", headers=DEMO)).json()["nodes"]
                    assert not any(refused in node["tenants"] for node in nodes)
                    missing = await http.get(f"/api/v1/tenants/{refused}", headers=DEMO)
                    assert missing.status_code == 404
                    kept = (await http.get(f"/api/v1/tenants/{before}", headers=DEMO)).json()
                    assert kept["revision"] == 1 and kept["name"] != "x"
                    stored = await http.get(
                        f"/api/v1/tenants/{before}/monitoring",
                        params={"source": "push"},
                        headers=DEMO,
                    )
                    assert stored.status_code == 200 and stored.json()["sample_count"] == 0
            finally:
                system.stop()
    finally:
        nats.stop()


async def test_a_database_restart_loses_no_tenant_and_deploys_none_twice(tmp_path: Path) -> None:
    nats = NatsServer(free_port(), free_port(), tmp_path / "nats")
    nats.start(tmp_path / "nats.log")
    postgres = PostgresServer(tmp_path / "pg", free_port())
    postgres.init()
    postgres.start()

    async def while_down(http: httpx.AsyncClient, before: str) -> None:
        created = await http.post(
            "/api/v1/tenants/", json=tenant_body(tenant_id("refused")), headers=DEMO
        )
        assert created.status_code == 503, created.text
        assert created.json()["code"] == "DATABASE_UNAVAILABLE"

    try:
        for name in ("ecp_prod", "ecp_demo"):
            postgres.create_database(name)
        urls = {"prod": postgres.url("ecp_prod"), "demo": postgres.url("ecp_demo")}
        system = started_system(nats.url, urls, tmp_path)
        try:
            async with client(system.base_url) as http:
                await across_a_restart(http, postgres.stop, postgres.start, while_down)
        finally:
            system.stop()
    finally:
        nats.stop()
        postgres.stop()
