"""The history and notifications rpc (`ecp.<mode>.rpc.alerts.history`, `.notifications`):
what a tenant's alerts did, and every notification with its delivery attempts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from services.alerts import store
from services.alerts.replies import ok
from shared.db import Databases
from shared.modes import Mode


class HistoryApi:
    """One mode's alert history and notification log."""

    def __init__(self, db: Databases, mode: Mode) -> None:
        self.db, self.mode = db, mode

    async def history(self, request: dict[str, Any]) -> dict[str, Any]:
        tenant_id, limit = str(request.get("tenant_id", "")), int(request.get("limit", 100))
        h = store.HistoryRow
        statement = select(h).where(col(h.tenant_id) == tenant_id)
        if request.get("rule"):
            statement = statement.where(
                (col(h.rule_id) == request["rule"]) | (col(h.alert_name) == request["rule"])
            )
        async with self.db.session(self.mode) as session:
            rows = (
                await session.execute(statement.order_by(col(h.id).desc()).limit(limit))
            ).scalars()
            entries = [
                {
                    **r.model_dump(exclude={"id", "published_at"}, mode="json"),
                    "id": r.id,
                }
                for r in rows
            ]
        return ok({"tenant_id": tenant_id, "history": entries, "total_count": len(entries)})

    async def notifications(self, request: dict[str, Any]) -> dict[str, Any]:
        tenant_id, limit = str(request.get("tenant_id", "")), int(request.get("limit", 100))
        n, a = store.NotificationRow, store.AttemptRow
        async with self.db.session(self.mode) as session:
            rows = list(
                (
                    await session.execute(
                        select(n)
                        .where(col(n.tenant_id) == tenant_id)
                        .order_by(col(n.id).desc())
                        .limit(limit)
                    )
                ).scalars()
            )
            ids = [r.id for r in rows]
            attempts = list(
                (
                    await session.execute(
                        select(a).where(col(a.notification_id).in_(ids)).order_by(col(a.id))
                    )
                ).scalars()
            )
        by_row: dict[int, list[dict[str, Any]]] = {}
        for attempt in attempts:
            by_row.setdefault(attempt.notification_id, []).append(
                attempt.model_dump(exclude={"id", "notification_id", "tenant_id"}, mode="json")
            )
        entries = [
            {
                **r.model_dump(exclude={"action", "payload"}, mode="json"),
                "method": r.action.get("method"),
                "log": by_row.get(r.id or 0, []),
            }
            for r in rows
        ]
        return ok({"tenant_id": tenant_id, "notifications": entries, "total_count": len(entries)})
