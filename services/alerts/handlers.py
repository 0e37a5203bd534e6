"""The alerts service's bus side: rpc for the API, metrics and tenant events in, and the
background loops (evaluation tick, notification delivery)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from faststream.nats import NatsBroker, NatsMessage
from nats.aio.msg import Msg
from pydantic import ValidationError

from services.alerts import store
from services.alerts.api import AlertsApi
from services.alerts.delivery import Delivery
from services.alerts.engine import Clock, Evaluator
from services.alerts.rule_api import rule_of
from services.alerts.rules import RuleBody, RuleProblem, compile_rule, default_rule_bodies
from shared import subjects
from shared.bus import publish_event
from shared.consumers import BatchHandler, ReceivedMessage, batch_consumer, durable_subscriber
from shared.contracts.alerts import AlertTransition
from shared.contracts.metrics import read_metric_points
from shared.modes import Mode
from shared.service import ServiceRuntime

log = logging.getLogger(__name__)
TENANT_EVENTS = ("tenant.sized", "tenant.deleted")  # what on_tenant_event acts on
# Different tenants' messages are handled side by side; one tenant's stay in order.
TENANTS_AT_ONCE = 8
RPC_QUERIES = ("rules", "silences", "history", "notifications", "export")
METRICS_BATCH = 200


def answering(
    call: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]], loaded: asyncio.Event
) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
    """An rpc answer never raises: refusals and surprises become problem replies."""

    async def answer(body: dict[str, Any]) -> dict[str, Any]:
        if not loaded.is_set():
            return RuleProblem(
                503, "SERVICE_UNAVAILABLE", "the alerts service is starting"
            ).to_reply()
        try:
            return await call(body)
        except RuleProblem as problem:
            return problem.to_reply()
        except Exception:  # logged here, answered as a problem
            log.exception("alerts rpc failed", extra={"op": body.get("op")})
            return RuleProblem(500, "INTERNAL_ERROR", "the alerts service failed").to_reply()

    return answer


class AlertsService:
    """Both modes' evaluators and APIs, the delivery loop and the tick."""

    def __init__(self, runtime: ServiceRuntime, clock: Clock, tick_s: float = 1.0) -> None:
        self.runtime, self.settings, self.clock, self.tick_s = (
            runtime,
            runtime.settings,
            clock,
            tick_s,
        )
        self.delivery = Delivery(runtime.db, self.settings)
        self.evaluators = {
            mode: Evaluator(
                mode, runtime.db, self.settings, clock, self.publish, self.delivery.wake
            )
            for mode in Mode
        }
        self.apis = {mode: AlertsApi(e, self.settings) for mode, e in self.evaluators.items()}
        self._ticker: asyncio.Task[None] | None = None
        # Consumers start before the on_start hooks: messages wait until the rules are loaded.
        self.loaded = asyncio.Event()

    async def publish(
        self, mode: Mode, tenant_id: str, name: str, event: AlertTransition, msg_id: str
    ) -> None:
        await publish_event(self.runtime.broker, mode, tenant_id, name, event, msg_id=msg_id)

    async def start(self) -> None:
        for evaluator in self.evaluators.values():
            await evaluator.load(rule_of)
        self.loaded.set()
        await self.delivery.start()
        self._ticker = asyncio.create_task(self.tick_forever())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(BaseException):
                await self._ticker
        await self.delivery.stop()

    async def tick_forever(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(self.tick_s)
            ticks += 1
            for evaluator in self.evaluators.values():
                try:
                    await evaluator.tick()
                    if ticks % 10 == 0:
                        await evaluator.announcer.publish_missed()
                except Exception:  # the next tick tries again
                    log.exception("evaluation tick failed", extra={"mode": str(evaluator.mode)})

    # Messages -------------------------------------------------------------------------------
    async def on_metrics(self, mode: Mode, bodies: list[bytes]) -> None:
        await self.loaded.wait()
        messages = []
        for body in bodies:
            try:
                messages.append(read_metric_points(body))
            except ValidationError:
                log.warning("malformed metric batch ignored")
        await self.evaluators[mode].on_points(messages)

    async def on_tenant_event(self, mode: Mode, subject: str, body: dict[str, Any]) -> None:
        await self.loaded.wait()
        name, tenant_id = subjects.event_name_of(subject), subjects.tenant_of(subject)
        if name == "tenant.sized":
            thresholds = body.get("sizing", {}).get("alert_thresholds") or {}
            await self.ensure_default_rules(mode, tenant_id, thresholds)
        elif name == "tenant.deleted":
            await self.forget_tenant(mode, tenant_id)

    async def ensure_default_rules(
        self, mode: Mode, tenant_id: str, thresholds: dict[str, float]
    ) -> None:
        """Create the preset's rules, or move their thresholds; rules a user changed stay."""
        bodies = [body.model_dump(mode="json") for body in default_rule_bodies(thresholds)]
        async with self.runtime.db.connection(mode) as conn:
            changed = await store.put_default_rules(conn, tenant_id, bodies, datetime.now(UTC))
        for rule_id, body in changed:
            self.evaluators[mode].put_rule(
                compile_rule(rule_id, tenant_id, RuleBody.model_validate(body), True)
            )

    async def forget_tenant(self, mode: Mode, tenant_id: str) -> None:
        await self.evaluators[mode].delete_tenant(tenant_id)


def from_message(
    answer: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
) -> Callable[[NatsMessage], Awaitable[dict[str, Any]]]:
    """The rpc body is JSON whatever content type the asker set."""

    async def handle(msg: NatsMessage) -> dict[str, Any]:
        try:
            body = json.loads(msg.body)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return RuleProblem(400, "BAD_REQUEST", "the rpc body must be a JSON object").to_reply()
        return await answer(body)

    return handle


# Factories, so FastStream sees only the message arguments (a default parameter would be read
# as a field of the body).
def metrics_handler(service: AlertsService, mode: Mode) -> BatchHandler:
    async def metrics(batch: list[Msg]) -> None:
        await service.on_metrics(mode, [msg.data for msg in batch])

    return metrics


def tenant_event_handler(
    service: AlertsService, mode: Mode
) -> Callable[[dict[str, Any], ReceivedMessage], Awaitable[None]]:
    async def tenant_event(body: dict[str, Any], msg: ReceivedMessage) -> None:
        await service.on_tenant_event(mode, msg.subject, body)

    return tenant_event


def register(service: AlertsService) -> None:
    runtime = service.runtime
    broker: NatsBroker = runtime.broker
    for mode in Mode:
        api = service.apis[mode]
        for query in RPC_QUERIES:
            broker.subscriber(subjects.rpc(mode, "alerts", query), queue="alerts")(
                from_message(answering(getattr(api, query), service.loaded))
            )

        batch_consumer(
            runtime,
            subject=subjects.metrics(mode, subjects.ANY),
            stream=subjects.stream_name(mode, "metrics"),
            durable=f"alerts-{mode}-metric-batches",
            handler=metrics_handler(service, mode),
            max_batch=METRICS_BATCH,
        )
        # One consumer for both tenant events it acts on, so a delete and a later re-sizing
        # stay in order; the others (a tenant's `accepted`, say) are not delivered at all.
        durable_subscriber(
            runtime,
            subject=[subjects.event(mode, subjects.ANY, *n.split(".")) for n in TENANT_EVENTS],
            stream=subjects.stream_name(mode, "evt"),
            durable=f"alerts-{mode}-tenant-events",
            concurrency=TENANTS_AT_ONCE,
        )(tenant_event_handler(service, mode))
    runtime.on_start.append(service.start)
    runtime.on_stop.append(service.stop)
