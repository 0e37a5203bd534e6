"""The connection pool against a real PostgreSQL: a connection the server closed is replaced
before use, so the query after a database restart does not fail; a burst of sessions within the
pool's size leaves its connections for the next burst."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from shared.db import Databases
from shared.modes import Mode
from shared.settings import Settings
from tests.support.servers import Servers

pytestmark = pytest.mark.integration


async def _terminate_backends(admin_url: str, database: str) -> int:
    """What a restart does to the pool's connections: the server ends them (57P01)."""
    admin = await asyncpg.connect(admin_url)
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
            database,
        )
        for _ in range(500):  # until the server has let every one of them go
            left = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", database
            )
            if not left:
                break
            await asyncio.sleep(0.01)
        return int(ended)
    finally:
        await admin.close()


async def test_connections_the_server_closed_are_replaced_before_use(
    settings: Settings, servers: Servers, database_urls: dict[str, str]
) -> None:
    db = Databases(settings, pool_size=2)
    try:

        async def backend_pid() -> int:
            async with db.session(Mode.prod) as session:
                return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())

        # Two sessions at once leave two connections in the pool.
        first = await asyncio.gather(backend_pid(), backend_pid())
        database = database_urls["prod"].rsplit("/", 1)[-1]
        assert await _terminate_backends(servers.postgres_admin_url, database) == 2
        await asyncio.sleep(0.05)  # the event loop reads the servers' goodbyes
        again = await asyncio.gather(backend_pid(), backend_pid())
        assert not set(again) & set(first)
    finally:
        await db.dispose()


async def test_a_burst_within_the_pool_size_keeps_its_connections_for_the_next(
    settings: Settings,
) -> None:
    db = Databases(settings.model_copy(update={"db_pool_size": 12}))
    try:
        barrier = asyncio.Barrier(12)

        async def backend_pid() -> int:
            async with db.session(Mode.prod) as session:
                pid = int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
                await barrier.wait()  # all twelve hold a connection at once
                return pid

        first = await asyncio.gather(*(backend_pid() for _ in range(12)))
        again = await asyncio.gather(*(backend_pid() for _ in range(12)))
        assert len(set(first)) == 12
        assert set(again) == set(first)  # no connection was closed and opened again
    finally:
        await db.dispose()
