"""The monitor's tables (schema `monitor`): samples partitioned by day, the batches already stored,
and the demo tenants the generator follows.

Samples go in with asyncpg `COPY` on a small pool per mode (SQLAlchemy adds nothing there); a
batch id is recorded in the same transaction, so a redelivered batch is skipped, never stored twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import asyncpg
from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from services.monitor.partitions import TABLE, DayPartition, day_of_partition_name
from shared.contracts.metrics import CheckedBatch, MetricBatchRecord
from shared.contracts.monitoring import FAMILY_OF, family_of
from shared.db import column_list, loaded

SCHEMA = "monitor"
COLUMNS = (
    "tenant_id",
    "metric_type",
    "metric_name",
    "metric_value",
    "timestamp",
    "labels",
    "source",
    "batch_id",
)
PARTITION_LOCK = "monitor.partitions"
Batch = MetricBatchRecord | CheckedBatch


def _rows_from_json(only: str = "") -> str:
    """Messages stored from their JSON (see `CheckedBatch`): the same rows `sample_records`
    makes. $1 the messages, $2 the oldest time kept, $3 and $4 metric names and their families;
    `only` joins the messages to what they must be among."""
    return f"""
INSERT INTO {SCHEMA}.{TABLE} ({", ".join(f'"{c}"' for c in COLUMNS)})
SELECT m.doc->>'tenant_id', coalesce(f.family, s.name), s.name, s.value, s."timestamp",
       nullif(s.labels, '{{}}'::jsonb), coalesce(m.doc->>'source', 'push'), m.doc->>'batch_id'
FROM unnest($1::jsonb[]) AS m(doc) {only}
CROSS JOIN LATERAL jsonb_to_recordset(m.doc->'samples')
    AS s(name text, value float8, "timestamp" timestamptz, labels jsonb)
LEFT JOIN unnest($3::text[], $4::text[]) AS f(name, family) ON f.name = s.name
WHERE s."timestamp" >= $2"""


INSERT_FROM_JSON = _rows_from_json()
# The usual round: batch ids and samples in one statement (atomic by itself), so storing a
# round of messages costs one round trip, not BEGIN, two statements and COMMIT. $5: their ids.
INGEST_FROM_JSON = f"""
WITH fresh AS (
    INSERT INTO {SCHEMA}.ingested_batches (batch_id) SELECT unnest($5::text[])
    ON CONFLICT DO NOTHING RETURNING batch_id
), stored AS ({_rows_from_json("JOIN fresh ON fresh.batch_id = m.doc->>'batch_id'")}
    RETURNING 1
)
SELECT (SELECT count(*) FROM fresh) AS batches, (SELECT count(*) FROM stored) AS rows"""
FAMILIES = (list(FAMILY_OF), list(FAMILY_OF.values()))


def batch_id_of(batch: Batch) -> str:
    return batch.batch_id if isinstance(batch, CheckedBatch) else batch["batch_id"]


class DemoTenantRow(SQLModel, table=True):
    """A demo tenant as the generator sees it: its size, and whether a deployment runs."""

    __tablename__ = "demo_tenants"
    __table_args__ = {"schema": SCHEMA}

    tenant_id: str = Field(primary_key=True, max_length=63)
    running: bool = False
    preset: str | None = None
    cpu_millicores: int = 0
    memory_mib: int = 0
    gpus: int = 0
    sized_revision: int = 0
    status_revision: int = 0
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


DEMO_TENANT_COLUMNS = column_list(DemoTenantRow)


async def record_sizing(
    conn: asyncpg.Connection,
    tenant_id: str,
    revision: int,
    sized: dict[str, Any],
    now: datetime,
) -> None:
    """The tenant's size at `revision` (`preset`, `cpu_millicores`, `memory_mib`, `gpus`); an
    older revision than the one recorded changes nothing. One statement: events of one tenant
    may be handled at the same time, and the row lock of the upsert orders them."""
    await conn.execute(
        f"""INSERT INTO {SCHEMA}.demo_tenants ({DEMO_TENANT_COLUMNS})
        VALUES ($1, false, $2, $3, $4, $5, $6, 0, $7) ON CONFLICT (tenant_id) DO UPDATE SET
          preset = excluded.preset, cpu_millicores = excluded.cpu_millicores,
          memory_mib = excluded.memory_mib, gpus = excluded.gpus,
          sized_revision = excluded.sized_revision, updated_at = excluded.updated_at
        WHERE {SCHEMA}.demo_tenants.sized_revision <= excluded.sized_revision""",
        tenant_id,
        sized["preset"],
        sized["cpu_millicores"],
        sized["memory_mib"],
        sized["gpus"],
        revision,
        now,
    )


async def record_running(
    conn: asyncpg.Connection, tenant_id: str, revision: int, running: bool, now: datetime
) -> None:
    """Whether something runs for the tenant after the deployment of `revision`; an older
    revision than the one recorded changes nothing."""
    await conn.execute(
        f"""INSERT INTO {SCHEMA}.demo_tenants ({DEMO_TENANT_COLUMNS})
        VALUES ($1, $2, NULL, 0, 0, 0, 0, $3, $4) ON CONFLICT (tenant_id) DO UPDATE SET
          running = excluded.running, status_revision = excluded.status_revision,
          updated_at = excluded.updated_at
        WHERE {SCHEMA}.demo_tenants.status_revision <= excluded.status_revision""",
        tenant_id,
        running,
        revision,
        now,
    )


async def forget_demo_tenant(conn: asyncpg.Connection, tenant_id: str) -> None:
    await conn.execute(f"DELETE FROM {SCHEMA}.demo_tenants WHERE tenant_id = $1", tenant_id)


async def demo_tenants(conn: asyncpg.Connection) -> list[DemoTenantRow]:
    records = await conn.fetch(
        f"SELECT {DEMO_TENANT_COLUMNS} FROM {SCHEMA}.demo_tenants ORDER BY tenant_id"
    )
    return [loaded(DemoTenantRow, record) for record in records]


def plain_postgres_url(url: str) -> str:
    """asyncpg wants `postgresql://`; settings may name a SQLAlchemy driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class IngestResult:
    batches: int  # new batches stored
    duplicates: int  # batches stored before (redelivery, replay)
    rows: int


def sample_records(batch: MetricBatchRecord, cutoff: datetime) -> list[tuple[Any, ...]]:
    tenant_id, batch_id, source = batch["tenant_id"], batch["batch_id"], batch.get("source", "push")
    # Pods repeat their labels sample after sample: each distinct set is written as JSON once.
    labels_cache: dict[tuple[tuple[str, str], ...], str | None] = {}
    records = []
    for sample in batch["samples"]:
        moment = sample["timestamp"]
        if moment < cutoff:
            continue  # older than retention: its partition is gone or about to go
        labels = sample.get("labels") or {}
        key = tuple(labels.items())
        if key not in labels_cache:
            labels_cache[key] = json.dumps(labels) if labels else None
        name = sample["name"]
        records.append(
            (
                tenant_id,
                family_of(name),
                name,
                sample["value"],
                moment,
                labels_cache[key],
                source,
                batch_id,
            )
        )
    return records


@dataclass(frozen=True)
class Window:
    """What a query selects besides the tenant: a time range, maybe some names, maybe a source."""

    since: datetime
    until: datetime
    names: list[str] | None = None
    source: str | None = None

    def filters(self, first: int) -> tuple[str, list[Any]]:
        """SQL conditions with parameters numbered from `first`, and their values."""
        sql, args = "", list[Any]()
        if self.names:
            sql += f" AND metric_name = ANY(${first + len(args)}::text[])"
            args.append(self.names)
        if self.source:
            sql += f" AND source = ${first + len(args)}"
            args.append(self.source)
        return sql, args


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to the pool: the store sets no session
    state (its advisory locks are the transaction's). asyncpg's default reset is a round trip
    (unlock, close, unlisten, reset all) after every round of samples; an open transaction is
    still rolled back by the pool itself."""


class SampleStore:
    """Samples of one mode's database."""

    def __init__(self, url: str, max_connections: int = 4) -> None:
        self.url = plain_postgres_url(url)
        self.max_connections = max_connections
        self._pool: asyncpg.Pool | None = None
        self.known_partitions: set[DayPartition] = set()

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=self.max_connections, reset=_keep_session
            )
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def existing_partitions(self) -> list[DayPartition]:
        rows = await (await self.pool()).fetch(
            """SELECT c.relname FROM pg_inherits i
               JOIN pg_class c ON c.oid = i.inhrelid
               JOIN pg_class p ON p.oid = i.inhparent
               JOIN pg_namespace n ON n.oid = p.relnamespace
               WHERE n.nspname = $1 AND p.relname = $2""",
            SCHEMA,
            TABLE,
        )
        days = (day_of_partition_name(row["relname"]) for row in rows)
        found = sorted(DayPartition(day) for day in days if day is not None)
        self.known_partitions = set(found)
        return found

    async def ensure_partitions(self, wanted: Iterable[DayPartition]) -> list[DayPartition]:
        """Create the partitions not known to exist; replicas serialise on an advisory lock."""
        missing = sorted(set(wanted) - self.known_partitions)
        if not missing:
            return []
        async with (await self.pool()).acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", PARTITION_LOCK)
            for part in missing:
                await conn.execute(
                    f'CREATE TABLE IF NOT EXISTS {SCHEMA}."{part.name}" PARTITION OF '
                    f"{SCHEMA}.{TABLE} FOR VALUES FROM ('{part.start.isoformat()}') "
                    f"TO ('{part.end.isoformat()}')"
                )
        self.known_partitions.update(missing)
        return missing

    async def drop_partitions(self, expired: Sequence[DayPartition]) -> None:
        async with (await self.pool()).acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", PARTITION_LOCK)
            for part in expired:
                await conn.execute(f'DROP TABLE IF EXISTS {SCHEMA}."{part.name}"')
        self.known_partitions.difference_update(expired)

    async def ingest(self, batches: Sequence[Batch], cutoff: datetime) -> IngestResult:
        """Store the batches not stored before, in one transaction with their batch ids."""
        if all(isinstance(batch, CheckedBatch) for batch in batches):
            return await self._ingest_json(cast(Sequence[CheckedBatch], batches), cutoff)
        async with (await self.pool()).acquire() as conn, conn.transaction():
            fresh = {
                row["batch_id"]
                for row in await conn.fetch(
                    f"INSERT INTO {SCHEMA}.ingested_batches (batch_id) "
                    "SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING batch_id",
                    [batch_id_of(batch) for batch in batches],
                )
            }
            as_json: list[str] = []
            records: list[tuple[Any, ...]] = []
            stored = 0
            for batch in batches:
                if batch_id_of(batch) not in fresh:
                    continue
                fresh.discard(batch_id_of(batch))  # the same batch twice in one fetch
                stored += 1
                if isinstance(batch, CheckedBatch):
                    as_json.append(batch.raw.decode())
                else:
                    records.extend(sample_records(batch, cutoff))
            rows = len(records)
            if as_json:
                status = await conn.execute(INSERT_FROM_JSON, as_json, cutoff, *FAMILIES)
                rows += int(status.split()[-1])
            if records:
                await conn.copy_records_to_table(
                    TABLE, schema_name=SCHEMA, columns=COLUMNS, records=records
                )
        return IngestResult(stored, len(batches) - stored, rows)

    async def _ingest_json(self, batches: Sequence[CheckedBatch], cutoff: datetime) -> IngestResult:
        first: dict[str, CheckedBatch] = {}  # the same batch twice in a round: stored once
        for batch in batches:
            first.setdefault(batch.batch_id, batch)
        row = await (await self.pool()).fetchrow(
            INGEST_FROM_JSON,
            [batch.raw.decode() for batch in first.values()],
            cutoff,
            *FAMILIES,
            list(first),
        )
        assert row is not None
        return IngestResult(row["batches"], len(batches) - row["batches"], row["rows"])

    async def forget_batches(self, before: datetime) -> int:
        """Batch ids older than any possible redelivery are no longer needed."""
        status = await (await self.pool()).execute(
            f"DELETE FROM {SCHEMA}.ingested_batches WHERE ingested_at < $1", before
        )
        return int(status.split()[-1])

    async def raw_points(self, tenant_id: str, window: Window, limit: int) -> list[asyncpg.Record]:
        """The newest `limit` samples of the window, oldest first."""
        filters, args = window.filters(first=5)
        rows = await (await self.pool()).fetch(
            f"""SELECT metric_name, "timestamp", metric_value, labels, source
                FROM {SCHEMA}.{TABLE}
                WHERE tenant_id = $1 AND "timestamp" >= $2 AND "timestamp" <= $3 {filters}
                ORDER BY "timestamp" DESC, metric_name LIMIT $4""",
            tenant_id,
            window.since,
            window.until,
            limit,
            *args,
        )
        return list(reversed(rows))

    async def buckets(
        self, tenant_id: str, window: Window, bucket_seconds: int
    ) -> list[asyncpg.Record]:
        """Per metric and bucket: name, bucket, avg, min, max, p95, count, in this order
        (`bucket_series` reads them by position)."""
        filters, args = window.filters(first=5)
        return list(
            await (await self.pool()).fetch(
                f"""SELECT metric_name,
                       date_bin(make_interval(secs => $4), "timestamp",
                                TIMESTAMPTZ '2000-01-01 00:00+00') AS bucket,
                       avg(metric_value) AS avg, min(metric_value) AS min,
                       max(metric_value) AS max,
                       percentile_cont(0.95) WITHIN GROUP (ORDER BY metric_value) AS p95,
                       count(*) AS count
                    FROM {SCHEMA}.{TABLE}
                    WHERE tenant_id = $1 AND "timestamp" >= $2 AND "timestamp" <= $3
                      {filters}
                    GROUP BY 1, 2 ORDER BY 1, 2""",
                tenant_id,
                window.since,
                window.until,
                float(bucket_seconds),
                *args,
            )
        )
