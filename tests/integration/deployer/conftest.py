"""The deployer in-process on a NATS server and databases of its own, so that no other
deployer (the e2e system's) takes its messages, and helpers to drive it over the bus."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from pydantic import BaseModel

from shared import subjects
from shared.bus import MSG_ID_HEADER
from shared.embedded import NatsServer, free_port
from shared.modes import Mode
from shared.settings import Settings
from tests.support.servers import Servers, unique_name


@pytest.fixture(scope="package")
def private_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("deployer-nats")
    server = NatsServer(free_port(), free_port(), root / "data")
    server.start(root / "nats.log")
    yield server.url
    server.stop()


@pytest.fixture(scope="package")
async def private_databases(servers: Servers) -> AsyncIterator[dict[str, str]]:
    admin = servers.postgres_admin_url.replace("postgresql+psycopg2://", "postgresql://")
    names = {"prod": unique_name("ecp_deployer"), "demo": unique_name("ecp_deployer_demo")}
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


@pytest.fixture(scope="package")
def deployer_settings(
    settings: Settings, private_nats: str, private_databases: dict[str, str]
) -> Settings:
    return settings.model_copy(
        update={
            "nats_url": private_nats,
            "database_url": private_databases["prod"],
            "demo_database_url": private_databases["demo"],
            "rollout_seconds_per_replica": 0.0,
            "virtual_cluster_file": None,  # the default demo cluster its tests count on
            "rollout_timeout_seconds": 2.0,
            "kubernetes_config_path": "",
            "kubernetes_in_cluster": False,
        }
    )


@pytest.fixture
async def nc(deployer_settings: Settings) -> AsyncIterator[Client]:
    client = await nats.connect(deployer_settings.nats_url)
    yield client
    await client.close()


class Events:
    """Every deployment event of one tenant, as the gateway would relay them."""

    def __init__(self, nc: Client, mode: Mode, tenant_id: str) -> None:
        self.nc, self.mode, self.tenant_id = nc, mode, tenant_id
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.arrived = asyncio.Condition()

    async def start(self) -> Events:
        async def on(msg: Msg) -> None:
            async with self.arrived:
                self.seen.append((subjects.event_name_of(msg.subject), json.loads(msg.data)))
                self.arrived.notify_all()

        self.sub = await self.nc.subscribe(
            subjects.event(self.mode, self.tenant_id, "deployment", ">"), cb=on
        )
        return self

    async def until(
        self, names: set[str], deployment_id: str | None = None, wait: float = 20
    ) -> tuple[str, dict[str, Any]]:
        def found() -> tuple[str, dict[str, Any]] | None:
            for name, data in self.seen:
                if name in names and deployment_id in (None, data.get("deployment_id")):
                    return name, data
            return None

        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(found), wait)
        result = found()
        assert result is not None
        return result

    def of(self, deployment_id: str) -> list[tuple[str, dict[str, Any]]]:
        return [(n, d) for n, d in self.seen if d.get("deployment_id") == deployment_id]


async def publish(
    nc: Client, mode: Mode, tenant_id: str, kind: str, name: str, message: BaseModel, msg_id: str
) -> None:
    """An event (`kind` evt) or a command (`kind` cmd) on JetStream, as the services send them."""
    aggregate, verb = name.split(".")
    subject = (subjects.event if kind == "evt" else subjects.command)(
        mode, tenant_id, aggregate, verb
    )
    await nc.jetstream().publish(
        subject,
        message.model_dump_json().encode(),
        headers={MSG_ID_HEADER: msg_id},
        stream=subjects.stream_name(mode, kind),
    )


async def ask(nc: Client, mode: Mode, query: str, body: dict[str, Any]) -> Any:
    reply = await nc.request(
        subjects.rpc(mode, "deployer", query), json.dumps(body).encode(), timeout=5
    )
    return json.loads(reply.data)
