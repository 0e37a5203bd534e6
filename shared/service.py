"""The runtime every service shares: settings, logging, broker, databases, migrations, health.

A service's `app.py` builds one `ServiceRuntime`, registers its handlers on `runtime.broker`,
and its `__main__.py` calls `runtime.run()`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop
from faststream.nats import NatsBroker
from prometheus_client import start_http_server

from shared import subjects
from shared.bus import declare_streams, make_broker
from shared.db import Databases
from shared.logging import configure_logging
from shared.modes import Mode
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)


class ServiceRuntime:
    def __init__(
        self,
        name: str,
        migrations: Path | None,
        settings: Settings | None = None,
    ) -> None:
        self.name = name
        self.settings = settings or get_settings()
        self.migrations = migrations
        self.broker: NatsBroker = make_broker(self.settings, name)
        self.db = Databases(self.settings)
        self.started = False
        # Background work of a service (generators, pollers): run after start, before stop.
        self.on_start: list[Callable[[], Awaitable[None]]] = []
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        # Work a service does after start before it runs at full speed (compiling schemas, say):
        # until it is done the service answers, but does not call itself ready.
        self.warmups: list[asyncio.Future[Any]] = []
        self.own_process = False  # set by `run()` and the gateway's process: see settle_heap
        self.broker.subscriber(subjects.health(name))(self.health)

    async def health(self) -> dict[str, Any]:
        """Readiness as the gateway's `/readyz` and `ecp up` ask for it."""
        checks: dict[str, str] = {"broker": "ok" if self.broker.connection.is_connected else "down"}
        for mode in Mode:
            try:
                await asyncio.wait_for(self.db.ping(mode), timeout=2.0)
                checks[f"database_{mode}"] = "ok"
            except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
                checks[f"database_{mode}"] = f"down: {type(exc).__name__}"
        checks["warm"] = "ok" if all(w.done() for w in self.warmups) else "warming up"
        ok = self.started and all(v == "ok" for v in checks.values())
        return {"service": self.name, "ready": ok, "checks": checks}

    async def start(self) -> None:
        if self.migrations is not None:
            await self.db.migrate(self.name, self.migrations)
        await self.broker.connect()
        await declare_streams(self.broker, self.settings)
        await self.broker.start()
        if self.settings.metrics_port:
            start_http_server(self.settings.metrics_port, addr="127.0.0.1")
        for hook in self.on_start:
            await hook()
        if self.own_process:
            settle_heap()
        self.started = True
        log.info("service started", extra={"service": self.name})

    async def stop(self) -> None:
        self.started = False
        for hook in self.on_stop:
            await hook()
        await self.broker.stop()
        await self.db.dispose()
        log.info("service stopped", extra={"service": self.name})

    async def serve_forever(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()

    def run(self) -> None:
        self.own_process = True
        configure_logging(self.name, self.settings.log_level, self.settings.log_json)
        # uvloop: the event loop is most of a service's CPU time under load, and uvloop's is leaner.
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(self.serve_forever())


def settle_heap() -> None:
    """Tune the garbage collector for a long-running service that reads big batches.

    A service's heap is mostly what it built at startup (frameworks, schemas, models), and a
    batch of thousands of samples allocates tens of thousands of objects: with CPython's
    defaults every few hundred allocations start a collection, and the full ones walk the whole
    heap. Measured on the gateway reading 5,000-sample pushes, that was half of its time. What
    startup built is moved out of the collector's sight, and a collection waits for 10,000 new
    objects instead of 700 (a batch's objects are mostly freed by reference counting anyway).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
