"""One async engine per mode; each service keeps its tables in a schema of its own."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import msgspec
from sqlalchemy import JSON, event, exc, inspect, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import class_mapper
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.util import greenlet_spawn
from sqlmodel import SQLModel

from shared.migrations import upgrade_schema
from shared.modes import Mode
from shared.settings import Settings

# What a database that is down, restarting or unreachable raises, from the driver or below it.
UNREACHABLE_ERRORS = (
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)


def is_unreachable(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, says the database cannot be reached."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, UNREACHABLE_ERRORS):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class DatabaseNotConfiguredError(RuntimeError):
    pass


def asyncpg_url(url: str) -> str:
    """Accept the seed's `postgresql://` URLs and use the asyncpg driver for them."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise DatabaseNotConfiguredError(f"not a PostgreSQL URL: {url.split('@')[-1]!r}")


def database_urls(settings: Settings) -> dict[Mode, str]:
    urls = {Mode.prod: settings.database_url, Mode.demo: settings.demo_database_url}
    missing = [
        f"ECP_{'DEMO_' if m is Mode.demo else ''}DATABASE_URL" for m, u in urls.items() if not u
    ]
    if missing:
        raise DatabaseNotConfiguredError(f"set {' and '.join(missing)} (or start with `ecp up`)")
    return urls


def json_text(value: Any) -> str:
    """A JSON parameter as a driver connection takes it (JSON columns come back decoded)."""
    return msgspec.json.encode(value).decode()


Row = TypeVar("Row", bound=SQLModel)


def column_list(model: type[SQLModel]) -> str:
    """The model's columns, in its fields' order: the order `row_values` gives."""
    return ", ".join(model.model_fields)


def placeholders(count: int, first: int = 1) -> str:
    """`$1, $2, ...`: `count` parameters from `first` on."""
    return ", ".join(f"${n}" for n in range(first, first + count))


@functools.cache
def json_columns(model: type[SQLModel]) -> frozenset[str]:
    """The model's JSON and JSONB columns."""
    return frozenset(c.key for c in inspect(model).columns if isinstance(c.type, JSON))


def parameters(model: type[SQLModel], values: Mapping[str, Any]) -> list[Any]:
    """Values for the model's columns named by `values`, in its order, as a driver connection
    takes them (JSON columns as text)."""
    json_names = json_columns(model)
    return [
        json_text(value) if name in json_names and value is not None else value
        for name, value in values.items()
    ]


def row_values(row: SQLModel) -> list[Any]:
    """Every column of a row, in the order of `column_list`, as a driver connection takes them."""
    fields = type(row).model_fields
    return parameters(type(row), {name: getattr(row, name) for name in fields})


def loaded(model: type[Row], record: Mapping[str, Any]) -> Row:
    """A table model's row from a driver connection's record (or values of the columns' types
    made by the caller), built as the ORM builds the rows it loads: the model's `__init__`
    sends every column through an attribute event (some 100 µs for a row of twenty columns,
    against 2 here). Not attached to any session."""
    row: Row = class_mapper(model).class_manager.new_instance()
    instance_dict(row).update(record)
    return row


def new_row(model: type[Row], **values: Any) -> Row:
    """A new row built as `loaded` builds rows: `values` (of the columns' types, not checked),
    and the model's defaults for the columns not given. A column without a default must be
    given."""
    record = {}
    for name, field in model.model_fields.items():
        if name in values:
            record[name] = values[name]
        elif field.is_required():
            raise TypeError(f"{model.__name__}.{name} has no default and was not given")
        else:
            record[name] = field.get_default(call_default_factory=True)
    return loaded(model, record)


def _refuse_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, a terminated backend) is replaced
    before use, so a database restart costs no failed request. asyncpg notices the closed socket
    by itself: this costs no round trip, where SQLAlchemy's `pool_pre_ping` costs three (BEGIN,
    a query, ROLLBACK) on every checkout. A connection that died silently (a network cut without
    a reset) still fails its query; the pool then drops the connections older than it."""
    if dbapi_connection.driver_connection.is_closed():
        raise exc.InvalidatePoolError("the database server closed this connection")


class Databases:
    """The prod and the demo database. A session is always of one mode, so a demo message can
    only ever write to the demo database."""

    def __init__(self, settings: Settings, pool_size: int | None = None) -> None:
        kept = pool_size or settings.db_pool_size
        self.engines: dict[Mode, AsyncEngine] = {
            mode: create_async_engine(
                asyncpg_url(url),
                pool_size=kept,
                max_overflow=max(1, kept // 2),
                # The connection returned last is used next: a few stay busy with warm
                # statement caches, and the rest wait for a burst.
                pool_use_lifo=True,
                # JSON columns in and out: msgspec is several times faster than `json`, and a
                # deployment reads and writes a few tens of KB of them.
                json_serializer=json_text,
                json_deserializer=msgspec.json.decode,
            )
            for mode, url in database_urls(settings).items()
        }
        for engine in self.engines.values():
            event.listen(engine.sync_engine.pool, "checkout", _refuse_closed_connection)
        self._sessions = {
            mode: async_sessionmaker(engine, expire_on_commit=False)
            for mode, engine in self.engines.items()
        }

    @asynccontextmanager
    async def session(self, mode: Mode) -> AsyncIterator[AsyncSession]:
        async with self._sessions[mode]() as session:
            yield session

    @asynccontextmanager
    async def connection(self, mode: Mode) -> AsyncIterator[asyncpg.Connection]:
        """The driver's own connection, from the same pool, outside a transaction: each
        statement stands alone. For hot paths written in SQL: a statement through an ORM session
        costs two to three times the client CPU of the same statement here."""
        # Straight from the pool (its checkout checks run as for a session): half the CPU of
        # going through an AsyncConnection, on the paths that take one per message.
        pooled = await greenlet_spawn(self.engines[mode].sync_engine.pool.connect)
        driver: asyncpg.Connection = pooled.driver_connection
        try:
            yield driver
        finally:
            if driver.is_in_transaction():
                # Left in a transaction (a BEGIN of the caller's own, a cancelled block):
                # closed rather than handed to the next caller in that state.
                await greenlet_spawn(pooled.invalidate)
            await greenlet_spawn(pooled.close)

    @asynccontextmanager
    async def transaction(self, mode: Mode) -> AsyncIterator[asyncpg.Connection]:
        """A driver connection in a transaction, committed when the block ends and rolled
        back when it raises."""
        async with self.connection(mode) as driver, driver.transaction():
            yield driver

    async def ping(self, mode: Mode) -> None:
        async with self.engines[mode].connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def migrate(self, schema: str, script_location: Path) -> None:
        for engine in self.engines.values():
            await upgrade_schema(engine, schema, script_location)

    async def dispose(self) -> None:
        for engine in self.engines.values():
            await engine.dispose()
