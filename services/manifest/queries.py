"""The manifest service's request/reply queries: get, revisions, diff and validate.

Every reply is a JSON object with `ok`; a refusal carries a stable `code` and a `detail`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from faststream.nats import NatsBroker, NatsMessage
from pydantic import BaseModel, ValidationError

from services.manifest import store
from services.manifest.diff import diff_manifests, diff_summary
from services.manifest.render import to_json, to_yaml
from services.manifest.summary import DEFAULT_PRICE_PER_CORE_MONTH
from services.manifest.validation import UnsupportedVersionError, validate_manifest
from shared import subjects
from shared.contracts.manifests import (
    MAX_MANIFEST_BYTES,
    DiffQuery,
    ManifestQuery,
    RevisionsQuery,
    ValidateManifestRequest,
)
from shared.contracts.sizing import SizingResult
from shared.db import Databases
from shared.modes import Mode
from shared.settings import Settings

Reply = dict[str, Any]
Query = TypeVar("Query", bound=BaseModel)
MAX_ERRORS_REPORTED = 1000
MEDIA_TYPES = {"yaml": "text/yaml; charset=utf-8", "json": "application/json"}


def refusal(code: str, detail: str) -> Reply:
    return {"ok": False, "code": code, "detail": detail}


def tenant_not_found(tenant_id: str) -> Reply:
    return refusal("TENANT_NOT_FOUND", f"no manifest of tenant {tenant_id!r} in this mode")


def revision_not_found(tenant_id: str, revision: int) -> Reply:
    return refusal(
        "REVISION_NOT_FOUND", f"tenant {tenant_id!r} has no manifest revision {revision}"
    )


def manifest_text(row: store.ManifestRow, fmt: str, include_monitoring: bool) -> str:
    if fmt == "json":
        return to_json(row.monitored_objects if include_monitoring else row.objects)
    # YAML is a function of the stored objects (same objects, same bytes): made when asked for.
    return to_yaml(row.monitored_objects if include_monitoring else row.objects)


def revision_entry(row: store.ManifestRow) -> Reply:
    return {
        "revision": row.revision,
        "content_hash": row.content_hash,
        "preset": row.preset,
        "created_at": row.created_at.isoformat(),
        "object_counts": row.object_counts,
        "total_objects": sum(row.object_counts.values()),
    }


def prices_of(sizing: SizingResult | None, settings: Settings) -> tuple[float | None, float]:
    """GPU-hour and core-month prices: the tenant's own sizing's, else the settings'."""
    gpu_price, core_price = settings.default_usd_per_gpu_hour, DEFAULT_PRICE_PER_CORE_MONTH
    if sizing is not None:
        cost = sizing.cost
        if cost.gpu_hours > 0:
            gpu_price = cost.gpu_monthly / cost.gpu_hours
        if cost.cpu_cores > 0 and cost.cpu_monthly > 0:
            core_price = cost.cpu_monthly / cost.cpu_cores
    return gpu_price, core_price


def submitted_text(body: ValidateManifestRequest) -> str:
    if body.manifest_zlib is None:
        return body.manifest_content
    inflater = zlib.decompressobj()
    raw = inflater.decompress(base64.b64decode(body.manifest_zlib), MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES or inflater.unconsumed_tail:
        raise ValueError(f"the manifest is larger than {MAX_MANIFEST_BYTES} bytes")
    return raw.decode("utf-8")


class ManifestQueries:
    def __init__(self, db: Databases, settings: Settings, mode: Mode) -> None:
        self.db, self.settings, self.mode = db, settings, mode

    async def get(self, body: ManifestQuery) -> Reply:
        if body.format not in MEDIA_TYPES:
            return refusal("INVALID_FORMAT", "format must be 'yaml' or 'json'")
        async with self.db.connection(self.mode) as conn:
            row = await store.live_manifest(conn, body.tenant_id, body.revision)
            if row is None:
                if body.revision is not None and await store.live_manifest(conn, body.tenant_id):
                    return revision_not_found(body.tenant_id, body.revision)
                return tenant_not_found(body.tenant_id)
        return {
            "ok": True,
            "tenant_id": row.tenant_id,
            "revision": row.revision,
            "content_hash": row.monitored_content_hash
            if body.include_monitoring
            else row.content_hash,
            "media_type": MEDIA_TYPES[body.format],
            "content": manifest_text(row, body.format, body.include_monitoring),
        }

    async def revisions(self, body: RevisionsQuery) -> Reply:
        async with self.db.connection(self.mode) as conn:
            rows = await store.live_revisions(conn, body.tenant_id)
        if not rows:
            return tenant_not_found(body.tenant_id)
        return {
            "ok": True,
            "tenant_id": body.tenant_id,
            "latest": rows[-1].revision,
            "revisions": [revision_entry(row) for row in reversed(rows)],
        }

    async def diff(self, body: DiffQuery) -> Reply:
        async with self.db.connection(self.mode) as conn:
            rows = {row.revision: row for row in await store.live_revisions(conn, body.tenant_id)}
        if not rows:
            return tenant_not_found(body.tenant_id)
        to = body.to_revision if body.to_revision is not None else max(rows)
        earlier = [revision for revision in rows if revision < to]
        start = body.from_revision
        if start is None and earlier:
            start = max(earlier)
        for wanted in (to, start):
            if wanted is not None and wanted not in rows:
                return revision_not_found(body.tenant_id, wanted)
        # With no earlier revision the diff is against nothing: every object is added.
        old_text = to_yaml(rows[start].objects) if start is not None else ""
        changes = diff_manifests(old_text, to_yaml(rows[to].objects))
        return {
            "ok": True,
            "tenant_id": body.tenant_id,
            "from_revision": start,
            "to_revision": to,
            "from_content_hash": rows[start].content_hash if start is not None else None,
            "to_content_hash": rows[to].content_hash,
            "summary": diff_summary(changes),
            "changes": changes,
        }

    async def validate(self, body: ValidateManifestRequest) -> Reply:
        try:
            text = submitted_text(body)
        except (ValueError, binascii.Error, zlib.error) as error:
            return refusal("INVALID_MANIFEST_ENCODING", str(error))
        if len(text.encode()) > MAX_MANIFEST_BYTES:
            return refusal("MANIFEST_TOO_LARGE", f"the manifest exceeds {MAX_MANIFEST_BYTES} bytes")
        async with self.db.connection(self.mode) as conn:
            row = await store.live_manifest(conn, body.tenant_id)
        sizing = SizingResult.model_validate(row.source["sizing"]) if row else None
        gpu_price, core_price = prices_of(sizing, self.settings)
        try:
            # A thread, so a big manifest does not stall this process's other messages.
            report = await asyncio.to_thread(
                validate_manifest,
                text,
                kubernetes_version=body.kubernetes_version or self.settings.kubernetes_version,
                catalogue_gpu_capacity=self.settings.gpus_per_server,
                cluster_gpu_capacity=self.settings.cluster_gpu_capacity,
                price_per_gpu_hour=gpu_price,
                price_per_core_month=core_price,
            )
        except UnsupportedVersionError as error:
            return refusal("UNSUPPORTED_KUBERNETES_VERSION", str(error))
        answer = report.model_dump(mode="json")
        hidden = len(answer["errors"]) - MAX_ERRORS_REPORTED
        if hidden > 0:
            # A reply must fit a NATS message: the first errors tell what is wrong anyway.
            answer["errors"] = answer["errors"][:MAX_ERRORS_REPORTED]
            answer["warnings"].append(f"{hidden} more errors not shown")
        return {"ok": True, **answer}


def answering(
    model: type[Query], handler: Callable[[Query], Awaitable[Reply]]
) -> Callable[[NatsMessage], Awaitable[Reply]]:
    """Parse the raw body ourselves, whatever content type the asker set, and answer a body
    that does not fit the query with a refusal rather than silence (a timeout)."""

    async def answer(msg: NatsMessage) -> Reply:
        try:
            body = model.model_validate_json(msg.body)
        except ValidationError as error:
            return refusal("INVALID_QUERY", str(error.errors()[:3]))
        return await handler(body)

    return answer


def register(broker: NatsBroker, db: Databases, settings: Settings, mode: Mode) -> None:
    handlers = ManifestQueries(db, settings, mode)
    routes: list[tuple[str, Callable[[NatsMessage], Awaitable[Reply]]]] = [
        ("get", answering(ManifestQuery, handlers.get)),
        ("revisions", answering(RevisionsQuery, handlers.revisions)),
        ("diff", answering(DiffQuery, handlers.diff)),
        ("validate", answering(ValidateManifestRequest, handlers.validate)),
    ]
    for query, handler in routes:
        broker.subscriber(subjects.rpc(mode, "manifest", query), queue="manifest")(handler)
