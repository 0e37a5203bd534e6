"""Wires the alerts service: runtime, rpc, metric and tenant-event consumers, background loops."""

from __future__ import annotations

import time
from pathlib import Path

from services.alerts import handlers
from services.alerts.engine import Clock
from shared.service import ServiceRuntime
from shared.settings import Settings, get_settings


def build(
    settings: Settings | None = None, *, clock: Clock = time.time, tick_s: float = 1.0
) -> ServiceRuntime:
    """The service; `clock` (epoch seconds) and `tick_s` are injectable for tests."""
    settings = settings or get_settings()
    runtime = ServiceRuntime("alerts", Path(__file__).parent / "migrations", settings)
    service = handlers.AlertsService(runtime, clock, tick_s)
    handlers.register(service)
    runtime.alerts = service  # type: ignore[attr-defined]  # tests reach the evaluators here
    return runtime
