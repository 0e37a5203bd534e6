"""The alerts service's parts over real PostgreSQL, with a clock the test moves."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import delete
from sqlmodel import col

from services.alerts import store
from services.alerts.api import AlertsApi
from services.alerts.delivery import Delivery
from services.alerts.engine import Evaluator
from services.alerts.handlers import answering
from services.alerts.rule_api import rule_of
from shared.contracts.alerts import AlertTransition
from shared.contracts.metrics import MetricBatch, Sample, points_of
from shared.db import Databases
from shared.modes import Mode
from shared.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "alerts" / "migrations"


class FakeClock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@pytest.fixture(scope="package")
def alert_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allowed_hosts": ["127.0.0.1"],
            "notification_retry_base_seconds": 1.0,
            "notification_max_tries": 4,
            "alert_stale_after_seconds": 120.0,
            "alert_repeat_interval_seconds": 3600.0,
            "webhook_timeout_seconds": 2.0,
        }
    )


@pytest.fixture(scope="package")
async def alert_db(alert_settings: Settings) -> AsyncIterator[Databases]:
    db = Databases(alert_settings)
    await db.migrate("alerts", MIGRATIONS)
    yield db
    await db.dispose()


@dataclass
class World:
    """One mode's evaluator, rpc answers and delivery, as the service wires them."""

    db: Databases
    settings: Settings
    clock: FakeClock
    tenant: str
    events: list[tuple[str, AlertTransition, str]] = field(default_factory=list)
    evaluator: Evaluator = field(init=False)
    api: AlertsApi = field(init=False)
    delivery: Delivery = field(init=False)
    mode: Mode = Mode.demo

    def __post_init__(self) -> None:
        self.evaluator = self.new_evaluator()
        self.api = AlertsApi(self.evaluator, self.settings)
        self.delivery = self.new_delivery()

    def new_evaluator(self) -> Evaluator:
        return Evaluator(self.mode, self.db, self.settings, self.clock, self.record)

    async def restart(self) -> None:
        """A restarted process: a new evaluator (empty windows) loads its rules and states, a
        new delivery loop finds the outbox as the last one left it."""
        await self.delivery.http.aclose()
        self.evaluator = self.new_evaluator()
        self.api = AlertsApi(self.evaluator, self.settings)
        self.delivery = self.new_delivery()
        await self.evaluator.load(rule_of)

    def new_delivery(self, **kwargs: Any) -> Delivery:
        return Delivery(
            self.db, self.settings, modes=(self.mode,), now=self.clock.datetime, **kwargs
        )

    async def record(
        self, mode: Mode, tenant: str, name: str, event: AlertTransition, msg_id: str
    ) -> None:
        self.events.append((name, event, msg_id))

    async def rpc(self, query: str, request: dict[str, Any]) -> dict[str, Any]:
        """The answer as the rpc subscriber gives it (problems included)."""
        loaded = asyncio.Event()
        loaded.set()
        return await answering(getattr(self.api, query), loaded)(request)

    async def create_rule(self, **body: Any) -> dict[str, Any]:
        reply = await self.api.rules({"op": "create", "tenant_id": self.tenant, "body": body})
        assert reply["ok"], reply
        return reply["data"]

    async def push(self, **metrics: float) -> None:
        at = self.clock.datetime()
        batch = MetricBatch(
            tenant_id=self.tenant,
            batch_id=uuid4().hex,
            samples=[Sample(name=n, value=v, timestamp=at) for n, v in metrics.items()],
        )
        await self.evaluator.on_points([points_of(batch.model_dump())])

    async def status(self, rule: dict[str, Any]) -> str:
        reply = await self.api.rules(
            {"op": "get", "tenant_id": self.tenant, "key": rule["rule_id"]}
        )
        return str(reply["data"]["state"]["status"])

    async def history(self) -> list[dict[str, Any]]:
        reply = await self.api.history({"tenant_id": self.tenant})
        return list(reversed(reply["data"]["history"]))

    async def notifications(self) -> list[dict[str, Any]]:
        reply = await self.api.notifications({"tenant_id": self.tenant})
        return list(reversed(reply["data"]["notifications"]))


@pytest.fixture
async def world(alert_db: Databases, alert_settings: Settings) -> AsyncIterator[World]:
    w = World(alert_db, alert_settings, FakeClock(), f"t-{uuid4().hex[:8]}")
    yield w
    await w.delivery.http.aclose()
    # Leave nothing another test's evaluator or delivery could pick up.
    async with alert_db.session(w.mode) as session:
        for table in (store.NotificationRow, store.RuleStateRow, store.RuleRow):
            await session.execute(delete(table).where(col(table.tenant_id) == w.tenant))
        await session.commit()
