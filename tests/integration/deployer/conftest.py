"""The deployer in-process (on the integration tests' own servers) and helpers to drive it over
the bus."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from pydantic import BaseModel

from shared import subjects
from shared.bus import MSG_ID_HEADER
from shared.modes import Mode
from shared.settings import Settings


@pytest.fixture(scope="package")
def deployer_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
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
