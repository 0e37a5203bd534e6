"""Two deployer replicas on one virtual cluster (its own database): a replica places on the state
it cached last only while the cluster is still at that version; after the other replica placed,
it reads the cluster again, so no node is given more than it has."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml

import services.deployer
from services.deployer.demo_target import DemoTarget
from services.deployer.job import Job
from services.deployer.virtual_cluster import usage
from shared.db import Databases
from shared.settings import Settings
from tests.integration.deployer.objects import tenant_objects
from tests.support.servers import Servers, unique_name

pytestmark = pytest.mark.integration


class Steps:
    """What a deployment reports, kept instead of published: only placement is under test."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def step(self, step: str, status: str, *_: Any) -> None:
        self.seen.append((step, status))


@pytest.fixture
async def replicas(
    deployer_settings: Settings, servers: Servers, tmp_path: Path
) -> AsyncIterator[tuple[DemoTarget, DemoTarget]]:
    name = unique_name("ecp_replicas")
    admin = await asyncpg.connect(servers.postgres_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    cluster = tmp_path / "cluster.yaml"
    # Two nodes of 4 cores: each tenant below needs 3, so two tenants on one node overcommit it.
    pools = [{"name": "cpu", "nodes": 2, "cpu": 4, "memory_gib": 16}]
    cluster.write_text(yaml.safe_dump({"name": "replicas", "node_pools": pools}))
    url = servers.postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    settings = deployer_settings.model_copy(
        update={"demo_database_url": url, "virtual_cluster_file": cluster}
    )
    db = Databases(settings)
    try:
        await db.migrate("deployer", Path(services.deployer.__file__).parent / "migrations")
        first, second = DemoTarget(db, settings), DemoTarget(db, settings)
        await first.prepare()
        await second.prepare()
        yield first, second
    finally:
        await db.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def three_core_job(tenant_id: str) -> Job:
    objects = tenant_objects(tenant_id, {"app": 1})
    for obj in objects:
        if obj["kind"] == "Deployment":
            containers = obj["spec"]["template"]["spec"]["containers"]
            containers[0]["resources"]["requests"]["cpu"] = "3"
    return Job(tenant_id, f"auto-{tenant_id}", 1, 1, "deploy", objects, [], Steps())  # type: ignore[arg-type]


async def test_a_replica_places_after_the_other_on_the_cluster_as_it_now_is(
    replicas: tuple[DemoTarget, DemoTarget],
) -> None:
    first, second = replicas
    a, b, c = (f"t-{uuid.uuid4().hex[:8]}" for _ in range(3))
    assert (await first.run(three_core_job(a))).ok
    # The second replica fills the other node; the first still has the cluster cached with one.
    assert (await second.run(three_core_job(b))).ok
    third = await first.run(three_core_job(c))
    assert not third.ok and "Insufficient cpu" in third.reason
    for node in usage(await first.state()):
        assert node.cpu_allocated_millicores <= node.cpu_capacity_millicores
        assert len(node.tenants) == 1


async def test_a_replica_alone_places_one_tenant_after_another(
    replicas: tuple[DemoTarget, DemoTarget],
) -> None:
    first, _ = replicas
    a, b = (f"t-{uuid.uuid4().hex[:8]}" for _ in range(2))
    assert (await first.run(three_core_job(a))).ok
    assert (await first.run(three_core_job(b))).ok
    nodes = {node.node: node.tenants for node in usage(await first.state())}
    assert sorted(tenants for tenants in nodes.values()) == sorted([(a,), (b,)])
