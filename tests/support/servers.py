"""Real NATS and PostgreSQL for tests: URLs from the environment, else testcontainers where a
Docker engine answers, else the embedded wheels on free ports."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from shared.embedded import NatsServer, PostgresServer, free_port


@dataclass(frozen=True)
class Servers:
    nats_url: str
    postgres_admin_url: str  # a database on the server where tests may CREATE DATABASE


def docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


@contextmanager
def _containers() -> Iterator[Servers]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.postgres import PostgresContainer

    with (
        PostgresContainer("postgres:16", driver=None) as pg,
        DockerContainer("nats:2.10").with_command("-js").with_exposed_ports(4222) as nats,
    ):
        url = f"nats://{nats.get_container_host_ip()}:{nats.get_exposed_port(4222)}"
        yield Servers(url, pg.get_connection_url())


@contextmanager
def _embedded() -> Iterator[Servers]:
    root = Path(tempfile.mkdtemp(prefix="ecp-test-"))
    nats = NatsServer(free_port(), free_port(), root / "nats")
    pg = PostgresServer(root / "pg", free_port())
    nats.start(root / "nats.log")
    pg.init()
    pg.start()
    try:
        yield Servers(nats.url, pg.url("postgres"))
    finally:
        nats.stop()
        pg.stop()
        # Hundreds of MB after a test run, GBs after a benchmark's 10 million samples.
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def test_servers() -> Iterator[Servers]:
    nats_url = os.environ.get("ECP_TEST_NATS_URL")
    pg_url = os.environ.get("ECP_TEST_POSTGRES_URL")
    if nats_url and pg_url:
        yield Servers(nats_url, pg_url)
    elif docker_available():
        with _containers() as servers:
            yield servers
    else:
        with _embedded() as servers:
            yield servers


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@asynccontextmanager
async def fresh_databases(admin_url: str, prefix: str) -> AsyncIterator[dict[str, str]]:
    """A new prod and demo database on the server of `admin_url`, dropped afterwards."""
    names = {"prod": unique_name(prefix), "demo": unique_name(f"{prefix}_demo")}
    conn = await asyncpg.connect(admin_url)
    for name in names.values():
        await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield {mode: f"{base}/{name}" for mode, name in names.items()}
    finally:
        conn = await asyncpg.connect(admin_url)
        for name in names.values():
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
