"""The broker or the database briefly gone: a system whose NATS server restarts (JetStream keeps
its streams on disk), or whose PostgreSQL server restarts, deploys the tenant created before and
the one created once it is back, neither twice; a create refused meanwhile is a 503 with a stable
code and leaves nothing behind, not even later. Each system here is the test's own, on servers of
its own, so restarting them touches no other test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from shared.embedded import NatsServer, PostgresServer, free_port
from tests.conftest import environment_for
from tests.support.clients import client, headers, tenant_body, tenant_id
from tests.support.servers import Servers, unique_name
from tests.support.system import RunningSystem

DEMO = headers(True)


@pytest.fixture
async def own_databases(servers: Servers) -> AsyncIterator[dict[str, str]]:
    admin = servers.postgres_admin_url
    names = {"prod": unique_name("ecp_broker"), "demo": unique_name("ecp_broker_demo")}
    conn = await asyncpg.connect(admin)
    for name in names.values():
        await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    base = admin.rsplit("/", 1)[0]
    yield {mode: f"{base}/{name}" for mode, name in names.items()}
    conn = await asyncpg.connect(admin)
    for name in names.values():
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


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
    """POST the tenant, again while the gateway answers that the broker is unavailable."""
    deadline = time.monotonic() + timeout
    while True:
        reply = await http.post("/api/v1/tenants/", json=tenant_body(tid), headers=DEMO)
        if reply.status_code in (201, 202) or time.monotonic() > deadline:
            break
        assert reply.status_code == 503, reply.text
        await asyncio.sleep(0.5)
    assert reply.status_code in (201, 202), reply.text


async def test_a_broker_restart_loses_no_tenant_and_deploys_none_twice(
    servers: Servers, own_databases: dict[str, str], tmp_path: Path
) -> None:
    nats = NatsServer(free_port(), free_port(), tmp_path / "nats")
    nats.start(tmp_path / "nats.log")
    (tmp_path / "logs").mkdir()
    system = RunningSystem(environment_for(nats.url, own_databases), tmp_path / "logs")
    try:
        system.start()
        async with client(system.base_url) as http:
            before = tenant_id("before")
            await create(http, before)
            await deployment_of(http, before)

            nats.stop()
            await asyncio.sleep(2)  # long enough for every service to see it gone
            refused = tenant_id("refused")
            reply = await http.post("/api/v1/tenants/", json=tenant_body(refused), headers=DEMO)
            assert reply.status_code == 503 and reply.json()["code"] == "BROKER_UNAVAILABLE"
            change = await http.patch(
                f"/api/v1/tenants/{before}", json={"name": "renamed"}, headers=DEMO
            )
            assert change.status_code == 503 and change.json()["code"] == "BROKER_UNAVAILABLE"
            nats.start(tmp_path / "nats.log")

            after = tenant_id("after")
            await create(http, after)
            deployments = {tid: await deployment_of(http, tid) for tid in (before, after)}
            await asyncio.sleep(3)  # time for a duplicate, or the refused create, to show
            nodes = (await http.get("/api/v1/cluster", headers=DEMO)).json()["nodes"]
            assert not any(refused in node["tenants"] for node in nodes)
            missing = await http.get(f"/api/v1/tenants/{refused}", headers=DEMO)
            assert missing.status_code == 404
            unchanged = (await http.get(f"/api/v1/tenants/{before}", headers=DEMO)).json()
            assert unchanged["revision"] == 1 and unchanged["name"] != "renamed"
            for tid in (before, after):
                history = (await deployment_of(http, tid))["history"]
                assert [d["revision"] for d in history] == [1], history
                assert (
                    history[0]["deployment_id"] == deployments[tid]["deployment"]["deployment_id"]
                )
    finally:
        system.stop()
        nats.stop()


async def test_a_database_restart_loses_no_tenant_and_deploys_none_twice(tmp_path: Path) -> None:
    nats = NatsServer(free_port(), free_port(), tmp_path / "nats")
    nats.start(tmp_path / "nats.log")
    postgres = PostgresServer(tmp_path / "pg", free_port())
    postgres.init()
    postgres.start()
    (tmp_path / "logs").mkdir()
    for name in ("ecp_prod", "ecp_demo"):
        postgres.create_database(name)
    urls = {"prod": postgres.url("ecp_prod"), "demo": postgres.url("ecp_demo")}
    system = RunningSystem(environment_for(nats.url, urls), tmp_path / "logs")
    try:
        system.start()
        async with client(system.base_url) as http:
            before = tenant_id("before")
            await create(http, before)
            await deployment_of(http, before)

            postgres.stop()
            await asyncio.sleep(2)
            refused = await http.post(
                "/api/v1/tenants/", json=tenant_body(tenant_id("refused")), headers=DEMO
            )
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == "DATABASE_UNAVAILABLE"
            postgres.start()

            after = tenant_id("after")
            await create(http, after)
            deployments = {tid: await deployment_of(http, tid) for tid in (before, after)}
            await asyncio.sleep(3)  # time for a duplicate to show, were there one
            for tid in (before, after):
                history = (await deployment_of(http, tid))["history"]
                assert [d["revision"] for d in history] == [1], history
                assert (
                    history[0]["deployment_id"] == deployments[tid]["deployment"]["deployment_id"]
                )
    finally:
        system.stop()
        nats.stop()
        postgres.stop()
