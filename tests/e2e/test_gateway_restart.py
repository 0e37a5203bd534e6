"""A tenant command the gateway stored but never published (it stopped in between) is sent
again, so the tenant is sized all the same."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import asyncpg

from tests.support.clients import client, headers, tenant_id
from tests.support.system import RunningSystem


async def test_a_stored_but_unpublished_create_is_sent_again(
    system: RunningSystem, database_urls: dict[str, str]
) -> None:
    tid = tenant_id("orphan")
    spec = {
        "tenant_id": tid,
        "name": "orphan",
        "preset": None,
        "service_requirements": {"chatbot": 30},
        "sla_target": {},
        "gpu_type": "auto",
        "cloud": None,
        "auto_deploy": None,
    }
    written = datetime.now(UTC) - timedelta(seconds=5)
    db = await asyncpg.connect(database_urls["demo"])
    # Exactly what POST /tenants/ commits before it publishes the command.
    await db.execute(
        """INSERT INTO gateway.tenants (tenant_id, name, status, service_requirements, sla_target, spec,
               requested_spec, revision, created_at, updated_at)
           VALUES ($1, $2, 'pending', $3, '{}', $4, $4, 1, $5, $5)""",
        tid,
        "orphan",
        json.dumps(spec["service_requirements"]),
        json.dumps(spec),
        written,
    )
    await db.close()
    async with client(system.base_url) as http:
        tenant: dict = {}
        for _ in range(150):
            tenant = (await http.get(f"/api/v1/tenants/{tid}", headers=headers(True))).json()
            if tenant.get("sized_revision") == 1:
                break
            await asyncio.sleep(0.1)
    assert tenant["sized_revision"] == 1 and tenant["preset"] == "micro"
    assert tenant["cpu_limit"] is not None
