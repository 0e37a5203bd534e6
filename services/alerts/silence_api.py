"""The silences rpc (`ecp.<mode>.rpc.alerts.silences`): create, list and expire a tenant's
silences, on the evaluator's clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from services.alerts import store
from services.alerts.replies import iso, ok
from services.alerts.rules import RuleProblem, seconds_of
from services.alerts.silences import read_silence, silence_window
from shared.db import Databases
from shared.modes import Mode


class SilenceApi:
    """One mode's silences."""

    def __init__(self, db: Databases, mode: Mode, clock: Callable[[], float]) -> None:
        self.db, self.mode, self.clock = db, mode, clock

    def now(self) -> datetime:
        """The evaluator's clock: silences and evaluations agree on what time it is."""
        return datetime.fromtimestamp(self.clock(), UTC)

    async def silences(self, request: dict[str, Any]) -> dict[str, Any]:
        op, tenant_id = request.get("op"), str(request.get("tenant_id", ""))
        now = self.now()
        async with self.db.session(self.mode) as session:
            if op == "create":
                body = read_silence(request.get("body"))
                duration = seconds_of(body.duration, "duration") if body.duration else None
                starts, ends = silence_window(body, now, duration)
                row = store.SilenceRow(
                    silence_id=f"s-{uuid.uuid4().hex[:16]}",
                    tenant_id=tenant_id,
                    matchers=[m.model_dump() for m in body.matchers],
                    starts_at=starts,
                    ends_at=ends,
                    comment=body.comment,
                    created_by=body.created_by,
                    created_at=now,
                )
                session.add(row)
                await session.commit()
                return ok(self.silence_answer(row, now), 201)
            if op == "list":
                rows = (
                    await session.execute(
                        select(store.SilenceRow)
                        .where(col(store.SilenceRow.tenant_id) == tenant_id)
                        .order_by(col(store.SilenceRow.created_at).desc())
                    )
                ).scalars()
                answers = [self.silence_answer(r, now) for r in rows]
                return ok(
                    {"tenant_id": tenant_id, "silences": answers, "total_count": len(answers)}
                )
            if op == "expire":
                found = await session.get(
                    store.SilenceRow, str(request.get("key")), with_for_update=True
                )
                if found is None or found.tenant_id != tenant_id:
                    raise RuleProblem(
                        404, "SILENCE_NOT_FOUND", f"no silence {request.get('key')!r}"
                    )
                if found.ends_at > now:
                    found.ends_at = max(now, found.starts_at)
                    session.add(found)
                    await session.commit()
                return ok(self.silence_answer(found, now))
        raise RuleProblem(400, "BAD_REQUEST", f"unknown silences operation {op!r}")

    @staticmethod
    def silence_answer(row: store.SilenceRow, now: datetime) -> dict[str, Any]:
        state = "pending" if row.starts_at > now else "active" if row.ends_at > now else "expired"
        return {
            "silence_id": row.silence_id,
            "tenant_id": row.tenant_id,
            "matchers": row.matchers,
            "starts_at": iso(row.starts_at),
            "ends_at": iso(row.ends_at),
            "comment": row.comment,
            "created_by": row.created_by,
            "status": state,
        }
