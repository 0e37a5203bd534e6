"""The connection pool against a real PostgreSQL: a connection the server closed is replaced
before use, so the query after a database restart does not fail; a burst of sessions within the
pool's size leaves its connections for the next burst; the driver's connection from the same pool
commits and rolls back by its block, and is never handed out inside a transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

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


async def _session_backend(db: Databases) -> int:
    async with db.session(Mode.prod) as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _driver_backend(db: Databases) -> int:
    async with db.connection(Mode.prod) as conn:
        return int(await conn.fetchval("SELECT pg_backend_pid()"))


@pytest.mark.parametrize(
    "backend_pid", [_session_backend, _driver_backend], ids=["session", "driver connection"]
)
async def test_connections_the_server_closed_are_replaced_before_use(
    settings: Settings,
    servers: Servers,
    database_urls: dict[str, str],
    backend_pid: Callable[[Databases], Awaitable[int]],
) -> None:
    db = Databases(settings, pool_size=2)
    try:
        # Two at once leave two connections in the pool.
        first = await asyncio.gather(backend_pid(db), backend_pid(db))
        database = database_urls["prod"].rsplit("/", 1)[-1]
        assert await _terminate_backends(servers.postgres_admin_url, database) == 2
        await asyncio.sleep(0.05)  # the event loop reads the servers' goodbyes
        again = await asyncio.gather(backend_pid(db), backend_pid(db))
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


async def test_a_transaction_commits_when_its_block_ends_and_rolls_back_when_it_raises(
    settings: Settings,
) -> None:
    db = Databases(settings, pool_size=2)
    try:
        async with db.connection(Mode.prod) as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS public.driver_blocks (id int)")
            await conn.execute("TRUNCATE public.driver_blocks")
        async with db.transaction(Mode.prod) as conn:
            await conn.execute("INSERT INTO public.driver_blocks VALUES (1)")
        with pytest.raises(RuntimeError):
            async with db.transaction(Mode.prod) as conn:
                await conn.execute("INSERT INTO public.driver_blocks VALUES (2)")
                raise RuntimeError("the handler failed")
        async with db.connection(Mode.prod) as conn:
            assert await conn.fetch("SELECT id FROM public.driver_blocks") == [(1,)]
            # JSON goes in as text and comes back decoded, as through the ORM.
            assert await conn.fetchval("SELECT $1::jsonb", '{"a": [1]}') == {"a": [1]}
    finally:
        await db.dispose()


async def test_a_connection_left_in_a_transaction_is_not_handed_out_again(
    settings: Settings,
) -> None:
    db = Databases(settings, pool_size=1)
    try:
        async with db.connection(Mode.prod) as conn:
            left = await conn.fetchval("SELECT pg_backend_pid()")
            await conn.execute("BEGIN")
        async with db.connection(Mode.prod) as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT pg_backend_pid()") != left
        async with db.connection(Mode.prod) as conn:
            kept = await conn.fetchval("SELECT pg_backend_pid()")
        async with db.connection(Mode.prod) as conn:
            # One that ends outside a transaction stays in the pool.
            assert await conn.fetchval("SELECT pg_backend_pid()") == kept
    finally:
        await db.dispose()
