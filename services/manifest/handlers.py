"""Tenant events in, rendered manifests out: one row per revision, never an older over a newer.

One durable consumer per mode reads `tenant.sized` and `tenant.deleted` of every tenant in
stream order. `tenant.sized` carries the sizing and, from the calculator, the tenant's name and
auto-deploy setting. One from a calculator older than those fields is rendered with the name
an older version of this service stored from `tenant.accepted`, else with the tenant's id.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import asyncpg
from faststream.nats import NatsBroker

from services.manifest import queries, store
from services.manifest.naming import HASH_ANNOTATION
from services.manifest.render import TenantManifestInput, render_both
from shared import subjects
from shared.bus import publish_event
from shared.consumers import ReceivedMessage, durable_subscriber
from shared.contracts.manifests import ManifestRendered
from shared.contracts.sizing import TenantSized
from shared.contracts.tenants import TenantDeleted
from shared.db import Databases, loaded
from shared.modes import Mode
from shared.service import ServiceRuntime

log = logging.getLogger(__name__)
TENANT_EVENTS = ("tenant.sized", "tenant.deleted")  # in stream order, on one consumer
# Different tenants' messages are handled side by side; one tenant's stay in order.
TENANTS_AT_ONCE = 8


# The order `kubectl apply -f` needs: what a kind refers to comes before it. The renderer groups
# a service's objects together; the manifest is served and announced kind by kind.
APPLY_ORDER = (
    "Namespace",
    "ResourceQuota",
    "LimitRange",
    "ConfigMap",
    "NetworkPolicy",
    "Service",
    "Deployment",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "CronJob",
)


def in_apply_order(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stable: within a kind the renderer's order (by service name) is kept."""
    rank = {kind: i for i, kind in enumerate(APPLY_ORDER)}
    return sorted(objects, key=lambda obj: rank.get(str(obj.get("kind")), len(rank)))


def manifest_hash(objects: list[dict[str, Any]]) -> str:
    """The hash `render` put in every object's annotation (over the objects as rendered)."""
    return str(objects[0]["metadata"]["annotations"][HASH_ANNOTATION])


def manifest_row(
    source: TenantManifestInput, auto_deploy: bool | None, now: datetime
) -> store.ManifestRow:
    """Render both variants (with and without monitoring) of one tenant revision."""
    plain, monitored = render_both(source)
    objects, monitored = in_apply_order(plain), in_apply_order(monitored)
    values = {
        "tenant_id": source.tenant_id,
        "revision": source.revision,
        "name": source.name,
        "preset": source.preset,
        "content_hash": manifest_hash(objects),
        "monitored_content_hash": manifest_hash(monitored),
        "objects": objects,
        "monitored_objects": monitored,
        "object_counts": dict(sorted(Counter(str(o["kind"]) for o in objects).items())),
        "source": source.model_dump(mode="json"),
        "auto_deploy": auto_deploy,
        "created_at": now,
        "deleted_at": None,
    }
    # Values made here, of the columns' types: the model's __init__ would send each through an
    # attribute event, some 4% of the service's time.
    return loaded(store.ManifestRow, values)


def rendered_event(row: store.ManifestRow) -> ManifestRendered:
    return ManifestRendered(
        tenant_id=row.tenant_id,
        revision=row.revision,
        occurred_at=row.created_at,
        content_hash=row.content_hash,
        preset=row.preset,
        objects=row.objects,
        auto_deploy=row.auto_deploy,
    )


class TenantEvents:
    """Handles one mode's tenant events, in stream order, on one durable consumer."""

    def __init__(self, broker: NatsBroker, db: Databases, mode: Mode) -> None:
        self.broker, self.db, self.mode = broker, db, mode

    async def handle(self, body: dict[str, Any], msg: ReceivedMessage) -> None:
        name = subjects.event_name_of(msg.subject)
        if name == "tenant.sized":
            await self.render_and_store(TenantSized.model_validate(body))
        elif name == "tenant.deleted":
            await self.delete(TenantDeleted.model_validate(body))

    async def render_and_store(self, event: TenantSized) -> None:
        tenant_id, revision = event.tenant_id, event.revision
        # No transaction: reads, then one INSERT that changes nothing when another replica
        # stored the revision first.
        async with self.db.connection(self.mode) as conn:
            deleted, newest = await store.revisions(conn, tenant_id)
            if revision <= deleted:
                return  # sized before a delete that has already been applied
            row = (
                await store.get_manifest(conn, tenant_id, revision) if revision <= newest else None
            )
            if row is None:
                name, auto_deploy = await self.name_and_auto_deploy(conn, event)
                source = TenantManifestInput(
                    tenant_id=tenant_id,
                    name=name,
                    preset=event.sizing.preset,
                    revision=revision,
                    sizing=event.sizing,
                )
                row = manifest_row(source, auto_deploy, datetime.now(UTC))
                await store.save_manifest(conn, row)
        if revision < newest:
            # Stored for the history, but announcing it would ask for an older deployment.
            log.info(
                "older revision stored, not announced",
                extra={"tenant_id": tenant_id, "revision": revision, "newest": newest},
            )
            return
        # Also on a redelivery: the first publish may have been lost (deduplicated if not).
        await publish_event(
            self.broker,
            self.mode,
            tenant_id,
            "manifest.rendered",
            rendered_event(row),
            msg_id=f"manifest.rendered:{tenant_id}:{revision}",
        )

    @staticmethod
    async def name_and_auto_deploy(
        conn: asyncpg.Connection, event: TenantSized
    ) -> tuple[str, bool | None]:
        if event.name is not None:
            return event.name, event.auto_deploy
        seen = await store.spec_for(conn, event.tenant_id, event.revision)
        if seen is not None:
            return seen.name, seen.auto_deploy
        log.warning(
            "tenant.sized without a name and none stored: rendered with the tenant's id",
            extra={"tenant_id": event.tenant_id, "revision": event.revision},
        )
        return event.tenant_id, None

    async def delete(self, event: TenantDeleted) -> None:
        async with self.db.transaction(self.mode) as conn:
            await store.mark_deleted(conn, event.tenant_id, event.revision, datetime.now(UTC))


def register(runtime: ServiceRuntime) -> None:
    broker, db, settings = runtime.broker, runtime.db, runtime.settings
    for mode in Mode:
        events = TenantEvents(broker, db, mode)
        durable_subscriber(
            runtime,
            subject=[subjects.event(mode, subjects.ANY, *n.split(".")) for n in TENANT_EVENTS],
            stream=subjects.stream_name(mode, "evt"),
            durable=f"manifest-{mode}-tenant",
            concurrency=TENANTS_AT_ONCE,
        )(events.handle)
        queries.register(broker, db, settings, mode)
