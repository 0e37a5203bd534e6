"""The seed guide's SQL surface: `tenants` and `monitoring_data` in both mode databases."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from ecp_client import AsyncECPClient
from tests.support.system import RunningSystem

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "seed" / "integration-guide.ko.md"


def troubleshooting_query() -> str:
    """The guide's own query (section 4, "모니터링 데이터 누락"), exactly as printed."""
    text = GUIDE.read_text(encoding="utf-8")
    for block in re.findall(r"```sql\n(.*?)```", text, re.S):
        if "INTERVAL '1 hour'" in block:
            return block.split("-- 데이터 확인\n", 1)[-1].split(";", 1)[0] + ";"
    raise AssertionError("the guide has no troubleshooting query")


TROUBLESHOOTING_QUERY = troubleshooting_query()
SEED_TENANT_COLUMNS = [
    "id", "tenant_id", "name", "preset", "is_demo", "status", "service_requirements",
    "resources", "sla_target", "cpu_limit", "memory_limit", "gpu_limit", "storage_limit",
    "gpu_type", "created_at", "updated_at",
]  # fmt: skip
SEED_MONITORING_INSERT = """
                INSERT INTO monitoring_data (tenant_id, metric_type, metric_name, metric_value)
                VALUES (1, 'cpu', 'cpu', 65.5)
            """


def client_for(system: RunningSystem, mode: str) -> AsyncECPClient:
    if mode == "demo":
        return AsyncECPClient(system.base_url, is_demo=True)
    return AsyncECPClient(system.base_url, is_demo=False, api_key=system.admin_key)


async def counts(conn: asyncpg.Connection, tenant_id: str) -> dict[str, int]:
    rows = await conn.fetch(TROUBLESHOOTING_QUERY)
    return {row["metric_type"]: row["count"] for row in rows if row["tenant_id"] == tenant_id}


@pytest.mark.parametrize("mode", ["demo", "prod"])
async def test_the_troubleshooting_query_counts_pushed_samples(
    system: RunningSystem, database_urls: dict[str, str], mode: str
) -> None:
    tenant_id = f"t-{uuid4().hex[:8]}"
    async with client_for(system, mode) as client:
        await client.create_tenant(
            {
                "tenant_id": tenant_id,
                "name": "SQL",
                "service_requirements": {"chatbot": 5},
                "auto_deploy": False,
            }
        )
        for value in (10.0, 20.0, 30.0):
            await client.push_metrics(tenant_id, {"cpu_usage": value, "seed_sql_probe": value})
    conn = await asyncpg.connect(database_urls[mode])
    try:
        deadline = time.monotonic() + 30
        found = await counts(conn, tenant_id)
        while found != {"cpu": 3, "seed_sql_probe": 3} and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            found = await counts(conn, tenant_id)
        assert found == {"cpu": 3, "seed_sql_probe": 3}
        ids = await conn.fetch("SELECT id FROM monitoring_data WHERE tenant_id = $1", tenant_id)
        assert len({row["id"] for row in ids}) == 6

        row = await conn.fetchrow("SELECT * FROM tenants WHERE tenant_id = $1", tenant_id)
        assert row is not None and list(row.keys()) == SEED_TENANT_COLUMNS
        assert row["is_demo"] is (mode == "demo")
        assert isinstance(row["id"], int) and row["preset"] and row["cpu_limit"]
    finally:
        await conn.close()
    # The other mode's database never sees these samples.
    other = await asyncpg.connect(database_urls["prod" if mode == "demo" else "demo"])
    try:
        assert await counts(other, tenant_id) == {}
    finally:
        await other.close()


@pytest.mark.parametrize("mode", ["demo", "prod"])
async def test_writing_to_the_seed_tables_names_the_api_to_use(
    system: RunningSystem, database_urls: dict[str, str], mode: str
) -> None:
    conn = await asyncpg.connect(database_urls[mode])
    try:
        with pytest.raises(
            asyncpg.PostgresError, match=r"use POST /api/v1/tenants/\{tenant_id\}/monitoring"
        ):
            await conn.execute(SEED_MONITORING_INSERT)
        with pytest.raises(asyncpg.PostgresError, match=r"use POST /api/v1/tenants/"):
            await conn.execute(
                "INSERT INTO tenants (tenant_id, name, preset, is_demo, service_requirements, "
                "resources, sla_target) VALUES ('x', 'x', 'small', false, '{}', '{}', '{}')"
            )
        with pytest.raises(asyncpg.PostgresError, match="read-only view"):
            await conn.execute("DELETE FROM monitoring_data")
    finally:
        await conn.close()
