"""`alert.firing` / `alert.resolved` events from history rows: published after the rows are
committed, marked once the broker took them, and published later when that failed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from services.alerts import store
from services.alerts.records import moment
from shared.contracts.alerts import AlertTransition
from shared.db import Databases
from shared.modes import Mode

log = logging.getLogger(__name__)

Publisher = Callable[[Mode, str, str, AlertTransition, str], Awaitable[Any]]


class Announcer:
    """One mode's alert events."""

    def __init__(
        self, mode: Mode, db: Databases, clock: Callable[[], float], publish: Publisher
    ) -> None:
        self.mode, self.db, self.clock, self.publish = mode, db, clock, publish

    async def announce(self, row: store.HistoryRow) -> None:
        event = AlertTransition(
            tenant_id=row.tenant_id,
            rule_id=row.rule_id,
            alert_name=row.alert_name,
            status=row.status,
            sequence=row.sequence,
            fingerprint=row.fingerprint,
            condition=row.condition,
            value=row.value,
            active_since=row.active_since,
            fired_at=row.fired_at,
            resolved_at=row.at if row.status == "resolved" else None,
            labels=row.labels,
        )
        msg_id = f"alert.{row.status}:{row.rule_id}:{row.sequence}"
        try:
            await self.publish(self.mode, row.tenant_id, f"alert.{row.status}", event, msg_id)
        except Exception:  # noqa: BLE001 - the sweep publishes it later
            log.warning("alert event not published yet", extra={"msg_id": msg_id})
            return
        async with self.db.session(self.mode) as session:
            await session.execute(
                update(store.HistoryRow)
                .where(
                    col(store.HistoryRow.rule_id) == row.rule_id,
                    col(store.HistoryRow.sequence) == row.sequence,
                    col(store.HistoryRow.status) == row.status,
                )
                .values(published_at=datetime.now(UTC))
            )
            await session.commit()

    async def publish_missed(self, older_than_s: float = 5.0) -> None:
        """Events whose publication a crash or a broker outage interrupted."""
        cutoff = moment(self.clock() - older_than_s)
        async with self.db.session(self.mode) as session:
            rows = (
                await session.execute(
                    select(store.HistoryRow)
                    .where(
                        col(store.HistoryRow.published_at).is_(None),
                        col(store.HistoryRow.at) < cutoff,
                    )
                    .order_by(col(store.HistoryRow.id))
                    .limit(100)
                )
            ).scalars()
            missed = list(rows)
        for row in missed:
            await self.announce(row)
